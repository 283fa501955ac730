"""Teams and grants as users meet them: a Dev-only deployer, a narrowed API key, approvals."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from deployments.models import Deployment
from deployments.services import deployments_expire_approvals
from deployserver.core.access import access_for
from deployserver.core.models import AuditEvent, Grant, Team
from deployserver.core.services import api_key_create
from releases.models import Environment
from releases.teams import GrantSpec, api_key_narrow
from tests.factories import (
    DeploymentFactory,
    ProjectFactory,
    ReleaseFactory,
    UserFactory,
    VariableFactory,
)

pytestmark = pytest.mark.django_db


def member(username: str, *grants: tuple[str, list, list]):
    """A user in a team of their own holding ``grants`` (role, projects, environments)."""
    user = UserFactory(username=username)
    user.save()
    team = Team.objects.create(name=f"team of {username}")
    team.members.add(user)
    for role, projects, environments in grants:
        grant = Grant.objects.create(
            team=team, role=role, all_projects=not projects, all_environments=not environments
        )
        grant.projects.set(projects)
        grant.environments.set(environments)
    return user


def api_as(user, **narrow) -> APIClient:
    _, key = api_key_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def world(dev_test_prod, standard_lifecycle):
    dev, test, prod = (dev_test_prod[s] for s in ("dev", "test", "prod"))
    hello = ProjectFactory(name="Hello Color", slug="hello", lifecycle=standard_lifecycle)
    shop = ProjectFactory(name="Secret Shop", slug="shop", lifecycle=standard_lifecycle)
    release = ReleaseFactory(project=hello, version="1.0.0")
    DeploymentFactory(release=release, environment=dev)
    DeploymentFactory(release=release, environment=test)
    shop_release = ReleaseFactory(project=shop, version="9.9.9")
    DeploymentFactory(release=shop_release, environment=dev)
    VariableFactory(project=hello, name="Color", value="blue")
    VariableFactory(project=hello, name="DbHost", value="prod-db.internal", environments=[prod])
    deployer = member("dev", ("deployer", [hello], [dev, test]), ("viewer", [hello], [prod]))
    return {
        "dev": dev,
        "test": test,
        "prod": prod,
        "hello": hello,
        "shop": shop,
        "release": release,
        "deployer": deployer,
    }


# A Dev-only deployer ---------------------------------------------------------------------------


def test_a_dev_deployer_cannot_deploy_to_prod_and_is_told_why(world):
    api = api_as(world["deployer"])
    response = api.post(
        "/api/deployments/", {"release": world["release"].pk, "environment": "prod"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "You may deploy Hello Color in Dev and Test; Prod needs the deployer role there."
    )
    promote = api.post(f"/api/releases/{world['release'].pk}/promote/")
    assert promote.status_code == 403 and "Prod needs the deployer role" in promote.json()["detail"]
    assert not Deployment.objects.filter(environment=world["prod"]).exists()


def test_the_release_page_disables_prod_with_the_reason(client, world):
    client.force_login(world["deployer"])
    page = client.get(f"/releases/{world['release'].pk}/").content.decode()
    assert "Prod needs the deployer role there." in page
    assert "disabled" in page


def test_a_dev_deployer_redeploys_to_dev(world):
    api = api_as(world["deployer"])
    response = api.post(
        "/api/deployments/", {"release": world["release"].pk, "environment": "dev"}, format="json"
    )
    assert response.status_code == 201, response.content


def test_prod_scoped_values_are_restricted_to_a_dev_deployer(world, admin_api):
    rows = {
        r["name"]: r
        for r in api_as(world["deployer"]).get("/api/projects/hello/variables/").json()["variables"]
    }
    assert rows["Color"]["value"] == "blue"
    assert rows["DbHost"]["value"] is None and rows["DbHost"]["restricted"] is True
    client_rows = admin_api.get("/api/projects/hello/variables/").json()["variables"]
    assert {r["name"]: r["value"] for r in client_rows}["DbHost"] == "prod-db.internal"


def test_the_variables_page_shows_restricted_and_never_the_value(client, world):
    client.force_login(world["deployer"])
    page = client.get("/projects/hello/variables/").content.decode()
    assert "(restricted)" in page and "prod-db.internal" not in page


def test_prod_preview_is_refused_to_a_dev_deployer(world):
    response = api_as(world["deployer"]).get(
        "/api/projects/hello/process/preview/?environment=prod"
    )
    assert response.status_code == 403


def test_projects_outside_the_grants_leak_nowhere(client, world):
    api = api_as(world["deployer"])
    everything = [
        api.get("/api/projects/").content,
        api.get("/api/dashboard/").content,
        api.get("/api/deployments/").content,
        api.get("/api/audit/").content,
        api.get("/api/projects/?name=Secret").content,
        api.get("/api/me/").content,
    ]
    client.force_login(world["deployer"])
    for url in ("/", "/projects/", "/projects/?q=Secret", "/audit/", "/?q=Secret", "/insights/"):
        everything.append(client.get(url).content)
    for body in everything:
        assert b"Secret Shop" not in body and b'"shop"' not in body and b"9.9.9" not in body
    assert api.get("/api/projects/shop/").status_code == 404
    assert api.get("/api/insights/?project=shop").status_code == 400
    assert api.get("/api/projects/").json()["count"] == 1


def test_an_admin_sees_every_project(world, admin_api):
    slugs = {p["slug"] for p in admin_api.get("/api/dashboard/").json()["projects"]}
    assert slugs == {"hello", "shop"}


def test_a_user_without_a_grant_sees_an_empty_dashboard_and_a_hint(client, world):
    nobody = UserFactory(username="nobody")
    nobody.save()
    client.force_login(nobody)
    page = client.get("/")
    assert page.status_code == 200
    assert "You have no role yet" in page.content.decode()
    assert b"Hello Color" not in page.content


def test_me_shows_the_matrix(world):
    me = api_as(world["deployer"]).get("/api/me/").json()
    assert me["permissions"] == {
        "hello": {
            "dev": ["view", "release", "deploy"],
            "test": ["view", "release", "deploy"],
            "prod": ["view"],
        }
    }


# A narrowed API key ----------------------------------------------------------------------------


def test_a_key_narrowed_to_one_project_in_dev_cannot_do_more_than_that(world):
    user = member("ci", ("deployer", [], []))  # may deploy anything anywhere
    api_key, key = api_key_create(user=user, name="ci")
    api_key_narrow(
        api_key=api_key,
        user=user,
        grants=[
            GrantSpec(role="deployer", projects=(world["hello"],), environments=(world["dev"],))
        ],
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    to = {"release": world["release"].pk}

    def deploy(environment):
        return api.post("/api/deployments/", {**to, "environment": environment}, format="json")

    assert deploy("test").status_code == 403
    assert deploy("dev").status_code == 201
    assert api.get("/api/projects/shop/").status_code == 404
    refusal = deploy("test")
    assert refusal.json()["detail"].startswith("This API key is narrowed")
    # The same user, signed in, may.
    assert access_for(user).allows("deploy", world["hello"], world["test"])


def test_narrowing_cannot_widen_a_key_beyond_its_user(world):
    api_key, key = api_key_create(user=world["deployer"], name="ci")
    api_key_narrow(api_key=api_key, user=world["deployer"], grants=[GrantSpec(role="admin")])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/accounts/").status_code == 403
    prod = {"release": world["release"].pk, "environment": "prod"}
    assert api.post("/api/deployments/", prod, format="json").status_code == 403


# Approvals -------------------------------------------------------------------------------------


@pytest.fixture
def approvals(world):
    Environment.objects.filter(pk=world["prod"].pk).update(
        requires_approval=True, approval_by_other=True
    )
    lead = member(
        "lead", ("deployer", [world["hello"]], []), ("approver", [world["hello"]], [world["prod"]])
    )
    other = member("other-approver", ("approver", [world["hello"]], [world["prod"]]))
    return {**world, "lead": lead, "other": other}


def test_a_deployment_to_prod_waits_for_an_approver_and_starts_when_approved(approvals):
    lead = api_as(approvals["lead"])
    created = lead.post(f"/api/releases/{approvals['release'].pk}/promote/")
    assert created.status_code == 201
    assert created.json()["state"] == "awaiting_approval"
    pk = created.json()["id"]
    assert Deployment.objects.get(pk=pk).enqueued_at is None  # never sent to a worker
    own = lead.post(f"/api/deployments/{pk}/approve/", {"comment": "mine"}, format="json")
    assert own.status_code == 403
    assert "someone other than who queued" in own.json()["detail"]
    assert api_as(approvals["deployer"]).post(f"/api/deployments/{pk}/approve/").status_code == 403
    approved = api_as(approvals["other"]).post(
        f"/api/deployments/{pk}/approve/", {"comment": "looks good"}, format="json"
    )
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["state"] == "queued" and body["reviewed_by"] == "other-approver"
    assert body["review_comment"] == "looks good"
    assert AuditEvent.objects.filter(summary__startswith=f"Approved deployment {pk}").exists()
    again = api_as(approvals["other"]).post(f"/api/deployments/{pk}/approve/")
    assert again.status_code == 400


def test_a_rejected_deployment_ends_cancelled_with_the_reason(approvals):
    pk = (
        api_as(approvals["lead"])
        .post(f"/api/releases/{approvals['release'].pk}/promote/")
        .json()["id"]
    )
    rejected = api_as(approvals["other"]).post(
        f"/api/deployments/{pk}/reject/", {"comment": "freeze week"}, format="json"
    )
    assert rejected.status_code == 200
    assert rejected.json()["state"] == "cancelled"
    assert rejected.json()["error"] == "Rejected by other-approver: freeze week"


def test_a_deployment_nobody_approves_expires(approvals):
    pk = (
        api_as(approvals["lead"])
        .post(f"/api/releases/{approvals['release'].pk}/promote/")
        .json()["id"]
    )
    assert deployments_expire_approvals() == []
    Deployment.objects.filter(pk=pk).update(created_at=timezone.now() - timedelta(days=8))
    assert deployments_expire_approvals() == [pk]
    deployment = Deployment.objects.get(pk=pk)
    assert deployment.state == "cancelled" and "within 7 days" in deployment.error


def test_an_awaiting_deployment_neither_blocks_nor_is_claimed(approvals):
    from deployments.engine import deployment_claim  # noqa: PLC0415
    from deployments.upkeep import deployment_dispatch  # noqa: PLC0415

    pk = (
        api_as(approvals["lead"])
        .post(f"/api/releases/{approvals['release'].pk}/promote/")
        .json()["id"]
    )
    assert deployment_claim(pk) is None
    assert Deployment.objects.get(pk=pk).state == "awaiting_approval"
    assert pk not in deployment_dispatch()


# Audit of refusals and permission changes ------------------------------------------------------


def test_refused_writes_are_audited_once_per_window(world):
    api = api_as(world["deployer"])
    prod = {"release": world["release"].pk, "environment": "prod"}
    for _ in range(5):
        assert api.post("/api/deployments/", prod, format="json").status_code == 403
    refusals = AuditEvent.objects.filter(summary__startswith="Refused deploy to dev")
    assert refusals.count() == 1


def test_team_changes_through_the_api_are_audited(world, admin_api):
    response = admin_api.post(
        "/api/teams/",
        {
            "name": "Approvers",
            "members": ["dev"],
            "grants": [{"role": "approver", "projects": ["hello"], "environments": ["prod"]}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["grants"] == [
        {"role": "approver", "projects": ["hello"], "environments": ["prod"]}
    ]
    event = AuditEvent.objects.get(object_type="deployserver.team", action="create")
    assert "members" in event.changes and "grants" in event.changes
    assert api_as(world["deployer"]).get("/api/teams/").status_code == 403


def test_a_users_grants_are_read_once_per_request(world):
    api = api_as(world["deployer"])
    with CaptureQueriesContext(connection) as few:
        api.get("/api/dashboard/")
    grant_reads = [q for q in few.captured_queries if "deployserver_grant" in q["sql"]]
    assert len(grant_reads) == 1


# A Dev-only project editor: their values, and the others kept ---------------------------------


@pytest.fixture
def dev_editor(world):
    return member("deved", ("project-editor", [world["hello"]], [world["dev"]]))


def stored_variables() -> list[tuple]:
    from releases.models import Variable

    return sorted(
        (v.name, v.value, tuple(sorted(e.slug for e in v.environments.all())))
        for v in Variable.objects.prefetch_related("environments")
    )


def test_a_dev_editor_adds_and_changes_dev_values_and_the_others_are_kept(world, dev_editor):
    api = api_as(dev_editor)
    got = api.get("/api/projects/hello/variables/").json()
    rows = {r["name"]: r for r in got["variables"]}
    assert rows["Color"]["editable"] is False  # unscoped: it applies to Prod too
    assert rows["DbHost"]["editable"] is False and rows["DbHost"]["value"] is None
    as_they_are = [
        {k: r[k] for k in ("id", "name", "type", "value", "environments")} for r in got["variables"]
    ]
    added = {"name": "Color", "value": "green", "environments": ["dev"]}
    response = api.put(
        "/api/projects/hello/variables/",
        {"version": got["version"], "variables": [*as_they_are, added]},
        format="json",
    )
    assert response.status_code == 200, response.content
    new = next(r for r in response.json()["variables"] if r["environments"] == ["dev"])
    assert new["editable"] is True
    assert stored_variables() == [
        ("Color", "blue", ()),
        ("Color", "green", ("dev",)),
        ("DbHost", "prod-db.internal", ("prod",)),
    ]
    changed = [*as_they_are, {**added, "id": new["id"], "value": "teal"}]
    response = api.put("/api/projects/hello/variables/", {"variables": changed}, format="json")
    assert response.status_code == 200, response.content
    assert ("Color", "teal", ("dev",)) in stored_variables()
    # Their own value they may delete too.
    response = api.put("/api/projects/hello/variables/", {"variables": as_they_are}, format="json")
    assert response.status_code == 200, response.content
    assert len(stored_variables()) == 2


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (
            lambda rows: [{**rows[0], "value": "red"}, rows[1]],
            "variables[0].id",
            "Color applies to every environment: only a project editor there may change it.",
        ),
        (
            lambda rows: [rows[0], {**rows[1], "environments": ["dev"]}],
            "variables[1].id",
            "DbHost applies to Prod: only a project editor there may change it.",
        ),
        (
            lambda rows: [rows[0], {**rows[1], "value": "evil.example"}],
            "variables[1].id",
            "DbHost applies to Prod: only a project editor there may change it.",
        ),
        (
            lambda rows: [rows[0]],
            "variables",
            "DbHost applies to Prod: only a project editor there may delete it.",
        ),
        (
            lambda rows: [*rows, {"name": "Region", "value": "eu"}],
            "variables[2].environments",
            "You may add or change only values scoped to environments where you edit the project "
            "(Dev).",
        ),
        (
            lambda rows: [
                *rows,
                {"name": "Region", "value": "eu", "environments": ["dev", "prod"]},
            ],
            "variables[2].environments",
            "You may add or change only values scoped to environments where you edit the project "
            "(Dev).",
        ),
    ],
)
def test_a_dev_editor_may_not_change_widen_or_delete_the_others(
    world, dev_editor, change, key, message
):
    api = api_as(dev_editor)
    rows = [
        {k: r[k] for k in ("id", "name", "type", "value", "environments")}
        for r in api.get("/api/projects/hello/variables/").json()["variables"]
    ]
    before = stored_variables()
    response = api.put("/api/projects/hello/variables/", {"variables": change(rows)}, format="json")
    assert response.status_code == 400
    assert message in response.json()[key]
    assert stored_variables() == before


def test_a_viewer_may_not_save_variables_at_all(world):
    api = api_as(world["deployer"])  # deployer in Dev and Test, viewer in Prod: no editor role
    rows = api.get("/api/projects/hello/variables/").json()["variables"]
    response = api.put("/api/projects/hello/variables/", {"variables": rows}, format="json")
    assert response.status_code == 403


def form_fields(page: str) -> list[tuple[str, str]]:
    """What a browser posts from the page's form: named inputs (checked boxes only), selects."""
    from html.parser import HTMLParser

    class Form(HTMLParser):
        def __init__(self):
            super().__init__()
            self.fields, self.select, self.in_template = [], None, 0

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "template":
                self.in_template += 1
            if self.in_template or a.get("disabled") is not None and "disabled" in a:
                return
            if tag == "input" and a.get("name"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    return
                self.fields.append((a["name"], a.get("value", "")))
            elif tag == "select" and a.get("name"):
                self.select = a["name"]
            elif tag == "option" and self.select and "selected" in a:
                self.fields.append((self.select, a.get("value", "")))

        def handle_endtag(self, tag):
            if tag == "template":
                self.in_template -= 1
            if tag == "select":
                self.select = None

    parser = Form()
    parser.feed(page)
    return parser.fields


def test_the_variables_page_lets_a_dev_editor_save_with_the_others_read_only(
    client, world, dev_editor
):
    client.force_login(dev_editor)
    page = client.get("/projects/hello/variables/").content.decode()
    assert page.count("data-locked-badge") == 2 and "Save variables" in page
    assert "prod-db.internal" not in page
    fields = form_fields(page)
    fields += [("row", "9"), ("v-9-id", ""), ("v-9-name", "Color"), ("v-9-value", "green")]
    fields += [("v-9-type", "text"), ("v-9-env", "dev")]
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    response = client.post("/projects/hello/variables/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert stored_variables() == [
        ("Color", "blue", ()),
        ("Color", "green", ("dev",)),
        ("DbHost", "prod-db.internal", ("prod",)),
    ]
