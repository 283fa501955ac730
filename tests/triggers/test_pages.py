"""The Triggers tab of a project and the push hook on the feed page."""

from django.test import override_settings

from triggers.checking import triggers_check
from triggers.models import Trigger
from triggers.services import trigger_create


def test_the_triggers_tab_shows_the_last_check_what_it_found_and_the_releases(
    admin_client, project, admin_user
):
    trigger_create(project=project, user=admin_user, name="Images")
    triggers_check()
    page = admin_client.get("/projects/hello-color/triggers/").content.decode()
    assert "Images" in page and "ago" in page
    assert "2.0.0" in page and ">0.0.1</a>" in page
    assert "unhealthy" not in page


def test_an_unhealthy_trigger_shows_its_error(admin_client, project, admin_user):
    trigger = trigger_create(project=project, user=admin_user, name="Images")
    Trigger.objects.filter(pk=trigger.pk).update(
        failures=12, last_error="ECR/hello-color: the registry did not answer"
    )
    page = admin_client.get("/projects/hello-color/triggers/").content.decode()
    assert "unhealthy" in page and "the registry did not answer" in page
    assert "12 failures in a row" in page


def test_a_trigger_is_created_edited_and_deleted_from_the_pages(admin_client, project):
    response = admin_client.post(
        "/projects/hello-color/triggers/new/", {"name": "Web", "packages": ["web"], "enabled": "on"}
    )
    assert response.status_code == 302
    trigger = Trigger.objects.get()
    assert trigger.packages == ["web"] and trigger.enabled and trigger.channel is None
    response = admin_client.post(
        f"/projects/hello-color/triggers/{trigger.pk}/edit/", {"name": "Web", "packages": ["db"]}
    )
    assert response.status_code == 400  # not a package of the process
    response = admin_client.post(
        f"/projects/hello-color/triggers/{trigger.pk}/edit/", {"name": "W"}
    )
    assert response.status_code == 302
    trigger.refresh_from_db()
    assert trigger.name == "W" and not trigger.enabled
    assert (
        admin_client.post(f"/projects/hello-color/triggers/{trigger.pk}/delete/").status_code == 302
    )
    assert not Trigger.objects.exists()


def test_a_viewer_sees_triggers_but_not_the_forms(viewer_client, project):
    assert viewer_client.get("/projects/hello-color/triggers/").status_code == 200
    assert viewer_client.get("/projects/hello-color/triggers/new/").status_code == 403


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_the_feed_page_shows_the_hook_url_to_editors_only(admin_client, viewer_user, release_feed):
    from django.test import Client

    page = admin_client.get(f"/library/feeds/{release_feed.pk}/").content.decode()
    assert f"http://testserver/api/hooks/registry/{release_feed.hook_token}/" in page
    viewer = Client()
    viewer.force_login(viewer_user)
    page = viewer.get(f"/library/feeds/{release_feed.pk}/").content.decode()
    assert release_feed.hook_token not in page and "Push hook" not in page
    old = release_feed.hook_token
    assert admin_client.post(f"/library/feeds/{release_feed.pk}/hook/rotate/").status_code == 302
    release_feed.refresh_from_db()
    assert release_feed.hook_token != old
