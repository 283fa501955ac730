"""The web pages: who may open them, what they show, and how many queries they cost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deployserver.core.models import AuditEvent, AwsAccount
from releases.models import Environment, Lifecycle, Project
from releases.services import environment_create
from tests.factories import SECRET_ACCESS_KEY, AwsAccountFactory, EnvironmentFactory, ProjectFactory

pytestmark = pytest.mark.django_db

READ_PAGES = [
    ("dashboard", {}),
    ("projects", {}),
    ("project-detail", {"slug": "web-shop"}),
    ("environments", {}),
    ("lifecycles", {}),
    ("audit", {}),
    ("api-keys", {}),
    ("my-permissions", {}),
]
# Administrators only, to read as well as to write.
ADMIN_PAGES = [("accounts", {}), ("teams", {}), ("user-permissions", {"username": "viewer"})]
WRITE_PAGES = [
    ("project-create", {}),
    ("project-edit", {"slug": "web-shop"}),
    ("project-delete", {"slug": "web-shop"}),
    ("environment-create", {}),
    ("environment-edit", {"slug": "dev"}),
    ("environment-delete", {"slug": "dev"}),
    ("lifecycle-create", {}),
    ("lifecycle-edit", {"slug": "release-train"}),
    ("lifecycle-delete", {"slug": "release-train"}),
    ("account-create", {}),
    ("account-edit", {"slug": "sandbox"}),
    ("account-delete", {"slug": "sandbox"}),
]


@pytest.fixture
def everything(release_train):
    AwsAccountFactory(name="Sandbox", slug="sandbox")


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES + ADMIN_PAGES + WRITE_PAGES)
def test_every_page_renders_for_an_admin(admin_client, viewer_user, everything, name, kwargs):
    response = admin_client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    assert b"<h1>" in response.content


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES + ADMIN_PAGES + WRITE_PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, everything, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES)
def test_a_viewer_reads_every_list_page(viewer_client, everything, name, kwargs):
    assert viewer_client.get(reverse(name, kwargs=kwargs)).status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), WRITE_PAGES + ADMIN_PAGES)
def test_a_viewer_gets_403_on_every_write(viewer_client, everything, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = viewer_client.get(url)
    assert response.status_code == 403
    page = response.content.decode()
    # The reason the access rule gave, naming the role that is missing.
    assert "role" in page and "Ask an administrator" in page
    assert viewer_client.post(url, {"name": "Changed"}).status_code == 403
    assert Environment.objects.count() == 2
    assert Project.objects.get().name == "Web shop"
    assert AwsAccount.objects.get().name == "Sandbox"


def test_an_unknown_project_is_a_404_page(admin_client):
    response = admin_client.get(reverse("project-detail", kwargs={"slug": "nope"}))
    assert response.status_code == 404
    assert "There is nothing at this address." in response.content.decode()


def test_a_viewer_sees_no_write_buttons(viewer_client, everything):
    page = viewer_client.get(reverse("environments")).content.decode()
    assert reverse("environment-create") not in page
    assert reverse("environment-delete", kwargs={"slug": "dev"}) not in page


def test_login_page_signs_in_and_logout_is_a_post(client, admin_user):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    response = client.post(reverse("login"), {"username": "admin", "password": "admin-pass-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_wrong_password_shows_an_error_on_the_login_page(client, admin_user):
    response = client.post(reverse("login"), {"username": "admin", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_navigation_marks_the_current_section(admin_client, everything):
    page = admin_client.get(reverse("lifecycles")).content.decode()
    assert f'<a href="{reverse("lifecycles")}" aria-current="page">Lifecycles</a>' in page
    assert f'<a href="{reverse("projects")}" aria-current="page">' not in page


# Dashboard -------------------------------------------------------------------------------------


def test_dashboard_without_environments_asks_for_one(admin_client):
    page = admin_client.get(reverse("dashboard")).content.decode()
    assert "Create an environment" in page


def test_dashboard_without_projects_asks_for_one(admin_client, dev_prod):
    page = admin_client.get(reverse("dashboard")).content.decode()
    assert "Create a project" in page


def test_dashboard_shows_projects_by_environments_in_sort_order(admin_client, release_train):
    Environment.objects.filter(slug="dev").update(sort_order=5)
    page = admin_client.get(reverse("dashboard")).content.decode()
    assert page.index(">Prod</th>") < page.index(">Dev</th>")
    assert reverse("project-detail", kwargs={"slug": "web-shop"}) in page
    assert page.count('<span class="cell-none" title="Not deployed yet">—</span></td>') == 2


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ["dashboard", "projects", "lifecycles", "audit"])
def test_list_pages_cost_the_same_queries_for_3_and_30_projects(
    admin_client, release_train, django_assert_max_num_queries, name
):
    ProjectFactory.create_batch(2, lifecycle=release_train)
    for i in range(3):
        environment_create(user=None, name=f"First {i}")
    url = reverse(name)
    few = _queries(admin_client, url)
    ProjectFactory.create_batch(27, lifecycle=release_train)
    EnvironmentFactory.create_batch(5)
    for i in range(30):
        environment_create(user=None, name=f"Audited {i}")
    with django_assert_max_num_queries(few):
        admin_client.get(url)


# Audit -----------------------------------------------------------------------------------------


def test_audit_lists_newest_first_and_filters_by_object_type(admin_client, admin_user, dev_prod):
    environment_create(user=admin_user, name="Staging")
    AuditEvent.objects.create(
        actor_name="admin",
        action="create",
        object_type="deployserver.awsaccount",
        object_repr="Sandbox",
        summary="Created AWS account Sandbox",
    )
    page = admin_client.get(reverse("audit")).content.decode()
    assert page.index("Created AWS account Sandbox") < page.index("Created environment Staging")
    assert '<option value="releases.environment">' in page
    filtered = admin_client.get(reverse("audit"), {"object_type": "releases.environment"})
    assert "Created environment Staging" in filtered.content.decode()
    assert "Sandbox" not in filtered.content.decode()


def test_audit_is_paginated_by_50(admin_client):
    for i in range(51):
        environment_create(user=None, name=f"Env {i:02d}")
    first = admin_client.get(reverse("audit")).content.decode()
    assert "Created environment Env 50" in first and "Created environment Env 00" not in first
    second = admin_client.get(reverse("audit"), {"page": 2}).content.decode()
    assert "Created environment Env 00" in second


# API keys --------------------------------------------------------------------------------------


def test_a_new_api_key_is_shown_once_and_works(admin_client, admin_user, api_client):
    response = admin_client.post(reverse("api-keys"), {"name": "ci", "expires_on": ""})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key.startswith("ds_") and key in response.content.decode()
    assert key not in admin_client.get(reverse("api-keys")).content.decode()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/environments/").status_code == 200


def test_an_api_key_cannot_expire_in_the_past(admin_client, admin_user):
    response = admin_client.post(reverse("api-keys"), {"name": "ci", "expires_on": "2001-01-01"})
    assert response.status_code == 400
    assert "Pick today or a later day." in response.content.decode()
    assert not admin_user.api_keys.exists()


def test_a_user_revokes_their_own_key_but_not_someone_elses(admin_client, admin_user, viewer_user):
    from deployserver.core.services import api_key_create

    mine, _ = api_key_create(user=admin_user, name="mine")
    theirs, _ = api_key_create(user=viewer_user, name="theirs")
    assert admin_client.post(reverse("api-key-revoke", kwargs={"pk": theirs.pk})).status_code == 404
    assert admin_client.post(reverse("api-key-revoke", kwargs={"pk": mine.pk})).status_code == 302
    assert list(viewer_user.api_keys.all()) == [theirs]
    assert not admin_user.api_keys.exists()


def test_lifecycle_with_no_phases_says_it_follows_environment_order(admin_client, dev_prod):
    Lifecycle.objects.create(name="Plain", slug="plain")
    page = admin_client.get(reverse("lifecycles")).content.decode()
    assert "Follows the environment order (one phase per environment)" in page


def test_account_secret_never_reaches_a_page(admin_client, everything):
    for name in ("accounts", "account-edit", "account-delete"):
        kwargs = {} if name == "accounts" else {"slug": "sandbox"}
        page = admin_client.get(reverse(name, kwargs=kwargs)).content.decode()
        assert SECRET_ACCESS_KEY not in page
    edit = admin_client.get(reverse("account-edit", kwargs={"slug": "sandbox"})).content.decode()
    assert "Leave blank to keep the current secret." in edit
    assert 'name="secret_access_key"' in edit


def test_projects_page_shows_fifty_a_page_and_filters_by_name(admin_client):
    ProjectFactory.create_batch(55)
    ProjectFactory(name="Billing API", slug="billing-api")

    first = admin_client.get(reverse("projects")).content.decode()
    second = admin_client.get(reverse("projects") + "?page=2").content.decode()
    filtered = admin_client.get(reverse("projects") + "?q=billing").content.decode()

    assert first.count("<tr>") - 1 == 50  # the header row, then one row per project
    assert "Page 1 of 2" in first
    assert second.count("<tr>") - 1 == 6
    assert "Billing API" in filtered and filtered.count("<tr>") - 1 == 1
    assert "No project matches" in admin_client.get(reverse("projects") + "?q=zzz").content.decode()
