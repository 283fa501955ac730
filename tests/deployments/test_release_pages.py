"""The release, channel and dashboard pages: what they show, what they refuse and why."""

import re

import pytest

from deployments.models import Deployment
from releases.models import Channel, Release
from releases.releasing import release_create
from tests.factories import DeploymentFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_create_page_prefills_the_next_version_and_preselects_the_newest_allowed(
    admin_client, project
):
    ReleaseFactory(project=project, version="1.4.1")
    page = text(admin_client.get("/projects/hello-color/releases/new/"))
    assert 'name="version" value="1.4.2"' in page
    options = re.findall(
        r'<option value="([^"]+)"( selected)?', page.split('name="package-web"')[1]
    )
    versions = [v for v, _ in options]
    # Newest first; the pre-release can be picked, the newest stable one is preselected.
    assert versions == ["2.1.0-rc.1", "2.0.0", "1.2.0", "1.1.0", "1.0.0"]
    assert [v for v, selected in options if selected] == ["2.0.0"]
    assert "2.1.0-rc.1 · pre-release" in page
    assert "left out by the channel's rules" not in page


def test_the_picker_leaves_out_what_the_channels_rules_refuse(admin_client, project):
    Channel.objects.create(
        project=project,
        name="Stable 1.x",
        slug="stable-1x",
        rules=[{"packages": ["web"], "version_range": ">=1.0.0 <2.0.0", "prerelease": "^$"}],
    )
    page = text(admin_client.get("/projects/hello-color/releases/new/packages/?channel=stable-1x"))
    options = re.findall(r'<option value="([^"]+)"( selected)?', page)
    assert [v for v, _ in options] == ["1.2.0", "1.1.0", "1.0.0"]
    assert options[0][1] == " selected"
    assert "2 other versions of the feed are left out by the channel's rules." in page


def test_creating_a_release_with_an_older_version_from_the_page(admin_client, project):
    response = admin_client.post(
        "/projects/hello-color/releases/new/",
        {"version": "1.0.0", "channel": "default", "package-web": "1.1.0", "notes": "*Hi*"},
    )
    release = Release.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/releases/{release.pk}/"
    assert release.packages["web"]["version"] == "1.1.0"
    page = text(admin_client.get(response["Location"]))
    assert "<em>Hi</em>" in page
    assert release.packages["web"]["digest"].split(":")[1][:12] in page


def test_a_refused_release_is_shown_in_place_and_nothing_is_created(admin_client, project):
    ReleaseFactory(project=project, version="1.0.0")
    response = admin_client.post(
        "/projects/hello-color/releases/new/",
        {"version": "1.0.0", "channel": "default", "package-web": "1.1.0"},
    )
    assert response.status_code == 400
    assert "Hello Color already has a release 1.0.0." in text(response)
    assert Release.objects.count() == 1


def test_changing_the_channel_reloads_the_pickers_under_its_rules(
    admin_client, project, admin_user
):
    from releases.channels import channel_create

    channel_create(
        project=project,
        user=admin_user,
        name="Previews",
        rules=[{"packages": ["web"], "version_range": ">=2.0.0", "prerelease": "^rc"}],
    )
    response = admin_client.get(
        "/projects/hello-color/releases/new/packages/?channel=previews", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page
    assert re.findall(r'<option value="([^"]+)"', page) == ["2.1.0-rc.1"]


def test_markdown_notes_are_rendered_safely(admin_client, bare_project, admin_user):
    release = release_create(
        project=bare_project,
        user=admin_user,
        notes="**Fixes**\n- <script>alert(1)</script>\n- [docs](javascript:alert(2))",
    )
    page = text(admin_client.get(f"/releases/{release.pk}/"))
    assert "<strong>Fixes</strong>" in page
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>" in page
    assert 'href="javascript' not in page


def test_the_release_page_explains_why_prod_is_not_open_and_refuses_a_forced_deploy(
    admin_client, bare_project
):
    release = ReleaseFactory(project=bare_project)
    page = text(admin_client.get(f"/releases/{release.pk}/"))
    assert "Prod opens after phase Dev has a successful deployment to Dev." in page
    assert re.search(r"<button[^>]*disabled[^>]*>Deploy to Prod", page)
    response = admin_client.post(f"/releases/{release.pk}/deploy/", {"environment": "prod"})
    assert response.status_code == 302
    follow = text(admin_client.get(response["Location"]))
    assert "msg-error" in follow
    assert "Prod opens after phase Dev has a successful deployment to Dev." in follow
    assert not Deployment.objects.exists()


def test_deploying_and_promoting_from_the_pages(admin_client, bare_project):
    release = ReleaseFactory(project=bare_project)
    response = admin_client.post(f"/releases/{release.pk}/deploy/", {"environment": "dev"})
    dev = Deployment.objects.get()
    assert response["Location"] == f"/deployments/{dev.pk}/"
    Deployment.objects.filter(pk=dev.pk).update(state="success")
    page = text(admin_client.get("/projects/bare/releases/"))
    assert "Promote to Test" in page
    response = admin_client.post(f"/releases/{release.pk}/promote/")
    assert Deployment.objects.get(environment__slug="test").trigger == "promotion"


def test_the_variables_banner_and_its_audited_update(admin_client, project, admin_user):
    from releases.variables import VariableInput, variable_list, variable_set_replace

    release = release_create(project=project, user=admin_user)
    assert 'id="variables-changed"' not in text(admin_client.get(f"/releases/{release.pk}/"))
    rows = [
        VariableInput(v.name, None if v.is_sensitive else v.value, v.type, id=v.pk)
        for v in variable_list(project)
    ] + [VariableInput("NewOne", "x")]
    variable_set_replace(project=project, user=admin_user, rows=rows)
    assert 'id="variables-changed"' in text(admin_client.get(f"/releases/{release.pk}/"))
    admin_client.post(f"/releases/{release.pk}/update-variables/")
    assert 'id="variables-changed"' not in text(admin_client.get(f"/releases/{release.pk}/"))


def test_the_releases_page_lists_newest_first_with_environments_reached(
    admin_client, bare_project, dev_test_prod
):
    old = ReleaseFactory(project=bare_project, version="1.0.0")
    ReleaseFactory(project=bare_project, version="1.1.0")
    DeploymentFactory(release=old, environment=dev_test_prod["dev"], state="success")
    DeploymentFactory(release=old, environment=dev_test_prod["test"], state="failed")
    page = text(admin_client.get("/projects/bare/releases/"))
    assert page.index("1.1.0") < page.index("1.0.0")
    assert 'class="badge badge-success" title="Dev: success">Dev' in page
    assert 'class="badge badge-failed" title="Test: failed">Test' in page


def test_the_dashboard_shows_the_latest_deployment_per_cell(
    admin_client, bare_project, dev_test_prod
):
    old = ReleaseFactory(project=bare_project, version="1.0.0")
    new = ReleaseFactory(project=bare_project, version="1.1.0")
    DeploymentFactory(release=old, environment=dev_test_prod["dev"])
    latest = DeploymentFactory(release=new, environment=dev_test_prod["dev"], state="executing")
    page = text(admin_client.get("/"))
    cell = page.split(f'data-environment="{dev_test_prod["dev"].pk}"')[1].split("</td>")[0]
    assert f'href="/deployments/{latest.pk}/"' in cell
    assert "1.1.0" in cell and "Executing" in cell and "admin" not in cell
    api = admin_client.get("/api/dashboard/").json()
    assert api["projects"][0]["environments"]["dev"]["version"] == "1.1.0"
    assert api["projects"][0]["environments"]["prod"] is None


def test_channels_are_created_edited_and_deleted_from_the_pages(admin_client, project):
    response = admin_client.post(
        "/projects/hello-color/channels/new/",
        {
            "name": "Stable 1.x",
            "slug": "",
            "description": "",
            "lifecycle": "",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-0-packages": ["web"],
            "rules-0-version_range": ">=1.0.0 <2.0.0",
            "rules-0-prerelease": "^$",
        },
    )
    assert response.status_code == 302, text(response)[:3000]
    channel = Channel.objects.get(slug="stable-1x")
    assert channel.rules == [
        {"packages": ["web"], "version_range": ">=1.0.0 <2.0.0", "prerelease": "^$"}
    ]
    bad = admin_client.post(
        "/projects/hello-color/channels/stable-1x/edit/",
        {
            "name": "Stable 1.x",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "1",
            "rules-0-version_range": "about 1",
        },
    )
    assert bad.status_code == 400
    assert "is not a version comparison" in text(bad)
    assert "&gt;=1.0.0 &lt;2.0.0" in text(admin_client.get("/projects/hello-color/channels/"))
    response = admin_client.post("/projects/hello-color/channels/stable-1x/delete/")
    assert response.status_code == 302
    assert not Channel.objects.filter(slug="stable-1x").exists()


def test_a_viewer_reads_the_pages_but_may_not_write(client, viewer_user, bare_project):
    client.force_login(viewer_user)
    release = ReleaseFactory(project=bare_project)
    for url in (
        "/",
        "/projects/bare/releases/",
        f"/releases/{release.pk}/",
        "/projects/bare/channels/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/projects/bare/releases/new/").status_code == 403
    assert client.post(f"/releases/{release.pk}/deploy/", {"environment": "dev"}).status_code == 403
    assert client.post(f"/releases/{release.pk}/promote/").status_code == 403
    assert client.get("/projects/bare/channels/new/").status_code == 403
    assert not Deployment.objects.exists()
