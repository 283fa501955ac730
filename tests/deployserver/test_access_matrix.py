"""The permission matrix, generated from the URL conf: every URL pattern is classified here, so a
new endpoint without a permission check (and without a line below) fails.

Three callers ask every endpoint: an administrator, a Dev-only deployer of Hello Color (viewer in
Prod) and a user without any grant; for project pages, once about Hello Color (in the deployer's
grants) and once about Secret Shop (outside them).
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from deployserver.core.audit import audit_record
from deployserver.core.models import Grant, Team
from deployserver.core.services import api_key_create
from notifications.models import Delivery, Webhook
from releases.models import Environment, Lifecycle
from tests.factories import (
    AwsAccountFactory,
    DeploymentFactory,
    DockerFeedFactory,
    ProjectFactory,
    ReleaseFactory,
    UserFactory,
)
from triggers.models import Trigger

pytestmark = pytest.mark.django_db

PUBLIC = {
    "healthz",
    "api-schema",
    "api-docs",
    "login",
    "logout",
    "api:api-root",
    "registry-hook",  # its token authenticates: tests/triggers
}
# Signed in: answers about what the caller may see (lists are filtered).
OWN = {
    "dashboard",
    "dashboard-api",
    "me-api",
    "audit",
    "api:audit-list",
    "api-keys",
    "my-permissions",
    "insights",
    "insights-api",
    "api:deployment-list",
    "api:project-list",
    "projects",
    "drift-api",
}
ADMIN = {
    "accounts",
    "account-create",
    "account-edit",
    "account-delete",
    "api:account-list",
    "api:account-detail",
    "teams",
    "team-create",
    "team-edit",
    "team-delete",
    "user-permissions",
    "api:team-list",
    "api:team-detail",
    "engine-api",
    "project-create",
    "project-delete",
    "environment-create",
    "environment-edit",
    "environment-delete",
    "lifecycle-create",
    "lifecycle-edit",
    "lifecycle-delete",
    "feed-create",
    "feed-edit",
    "feed-delete",
    "webhooks",
    "webhook-create",
    "webhook-edit",
    "webhook-delete",
    "webhook-deliveries",
    "api:webhook-list",
    "api:webhook-detail",
    "api:webhook-deliveries",
    "api:webhook-delivery-detail",
}
ADMIN_POST = {
    "account-check",
    "feed-test",
    "api:account-test",
    "api:feed-test",
    "feed-hook-rotate",
    "webhook-delivery-redeliver",
    "api:webhook-delivery-redeliver",
    "drift-check-api",  # one project × environment needs the deployer role there: tests/deployments
}
# Shared by every project: read by anyone holding a grant, written by administrators.
GRANTED = {
    "environments",
    "lifecycles",
    "feed-list",
    "feed-detail",
    "feed-package",
    "api:environment-list",
    "api:environment-detail",
    "api:lifecycle-list",
    "api:lifecycle-detail",
    "api:feed-list",
    "api:feed-detail",
}
# Read from a registry: a grant is enough; out of the test's reach (no registry), only checked
# to refuse the user without a grant.
GRANTED_REGISTRY = {
    "feed-repositories",
    "feed-versions",
    "feed-digest",
    "api:feed-packages",
    "api:feed-versions",
    "api:feed-digest",
}
PROJECT_READ = {
    "api:audit-detail",
    "project-detail",
    "project-overview-grid",
    "project-insights",
    "project-releases",
    "project-channels",
    "project-variables",
    "project-process",
    "project-variables-api",
    "project-process-api",
    "project-releases-api",
    "project-channels-api",
    "project-channel-api",
    "api:project-detail",
    "project-release",
    "api:release-detail",
    "deployment-detail",
    "deployment-poll",
    "deployment-log-earlier",
    "deployment-log-raw",
    "api:deployment-detail",
    "api:deployment-log",
    "project-triggers",
    "project-triggers-api",
    "project-trigger-api",
}
# Shows an environment's values: the deployer role there (``?environment=``).
PROJECT_ENVIRONMENT = {
    "project-process-preview",
    "project-process-preview-api",
    "project-release-diff",
    "api:release-diff",
}
PROJECT_EDIT = {
    "project-edit",
    "project-channel-create",
    "project-channel-edit",
    "project-channel-delete",
    "project-trigger-create",
    "project-trigger-edit",
    "project-trigger-delete",
}
PROJECT_RELEASE = {"project-release-create", "project-release-packages"}
# Writes (POST) on one project's release or deployment.
PROJECT_POST = {
    "api:release-promote",
    "api:release-update-variables",
    "api:deployment-approve",
    "api:deployment-cancel",
    "api:deployment-redeploy",
    "api:deployment-reject",
    "project-release-deploy",
    "project-release-promote",
    "project-release-update-variables",
    "deployment-cancel",
    "deployment-approve",
    "deployment-reject",
    "deployment-redeploy",
    "deployment-promote",
}
OWN_POST = {"api-key-revoke"}

CLASSES = [
    PUBLIC,
    OWN,
    ADMIN,
    ADMIN_POST,
    GRANTED,
    GRANTED_REGISTRY,
    PROJECT_READ,
    PROJECT_ENVIRONMENT,
    PROJECT_EDIT,
    PROJECT_RELEASE,
    PROJECT_POST,
    OWN_POST,
]


def patterns(resolver=None, namespace=""):
    """(name, kwarg names) of every URL pattern but the Django admin's and format suffixes."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin/"):
                continue
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from patterns(entry, inner)
        elif isinstance(entry, URLPattern):
            regex = entry.pattern.regex
            names = set(regex.groupindex) | set(getattr(entry.pattern, "converters", {}))
            if "format" in names:
                continue
            yield namespace + (entry.name or ""), sorted(names)


def test_every_url_pattern_is_classified():
    names = {name for name, _ in patterns()}
    classified = set().union(*CLASSES)
    assert names - classified == set(), "classify the new endpoints in this module"
    assert sum(len(c) for c in CLASSES) == len(classified), "a name is in two classes"


@pytest.fixture
def world(dev_test_prod, standard_lifecycle, admin_user):
    dev, test, prod = dev_test_prod["dev"], dev_test_prod["test"], dev_test_prod["prod"]
    hello = ProjectFactory(name="Hello Color", slug="hello", lifecycle=standard_lifecycle)
    shop = ProjectFactory(name="Secret Shop", slug="shop", lifecycle=standard_lifecycle)
    ids = {}
    for project in (hello, shop):
        release = ReleaseFactory(project=project, version="1.0.0")
        deployment = DeploymentFactory(release=release, environment=dev)
        DeploymentFactory(release=release, environment=test)
        event = audit_record(user=None, action="other", obj=project, summary="Checked")
        trigger = Trigger.objects.create(project=project, name="New images")
        ids[project.slug] = {
            "release": release.pk,
            "deployment": deployment.pk,
            "audit": event.pk,
            "trigger": trigger.pk,
        }
    deployer = UserFactory(username="dev-deployer")
    nobody = UserFactory(username="nobody")
    for user in (deployer, nobody):
        user.save()  # keeps the password the factory set, so the session stays valid
    team = Team.objects.create(name="Developers")
    team.members.add(deployer)
    grant = Grant.objects.create(
        team=team, role="deployer", all_projects=False, all_environments=False
    )
    grant.projects.set([hello])
    grant.environments.set([dev, test])
    viewer = Grant.objects.create(
        team=team, role="viewer", all_projects=False, all_environments=False
    )
    viewer.projects.set([hello])
    viewer.environments.set([prod])
    account = AwsAccountFactory(name="Sandbox", slug="sandbox")
    feed = DockerFeedFactory(name="Hub", slug="hub")
    key, _ = api_key_create(user=admin_user, name="admin's")
    webhook = Webhook.objects.create(
        name="Chat", url="https://chat.example.org/hook", events=["deployment.failed"]
    )
    delivery = Delivery.objects.create(webhook=webhook, event_name="deployment.failed", body="{}")
    return {
        "webhook": webhook.pk,
        "delivery": delivery.pk,
        "ids": ids,
        "account": account.pk,
        "key": key.pk,
        "feed": feed.pk,
        "team": team.pk,
        "deployer": deployer,
        "nobody": nobody,
        "admin": admin_user,
    }


def sample(name: str, kwargs: list[str], world: dict, project: str) -> str:
    """A concrete URL of pattern ``name`` about ``project`` (hello or shop)."""
    values = {}
    for key in kwargs:
        if key == "slug":
            if name.startswith(("environment", "api:environment")):
                values[key] = "dev"
            elif name.startswith(("lifecycle", "api:lifecycle")):
                values[key] = "standard"
            elif name.startswith(("account", "api:account")):
                values[key] = "sandbox"
            else:
                values[key] = project
        elif key == "channel_slug":
            values[key] = "default"
        elif key == "package_id":
            values[key] = "library/nginx"
        elif key == "username":
            values[key] = "dev-deployer"
        elif key == "pk":
            if "trigger" in name:
                values[key] = world["ids"][project]["trigger"]
            elif "delivery" in name:
                values[key] = world["delivery"]
            elif "webhook" in name:
                values[key] = world["webhook"]
            elif "release" in name:
                values[key] = world["ids"][project]["release"]
            elif "deployment" in name:
                values[key] = world["ids"][project]["deployment"]
            elif "feed" in name:
                values[key] = world["feed"]
            elif "team" in name:
                values[key] = world["team"]
            elif "environment" in name:
                values[key] = Environment.objects.get(slug="dev").pk
            elif "audit" in name:
                values[key] = world["ids"][project]["audit"]
            elif "api-key" in name:
                values[key] = world["key"]
            elif "lifecycle" in name:
                values[key] = Lifecycle.objects.get(slug="standard").pk
            else:
                values[key] = world["account"]
    url = reverse(name, kwargs=values)
    if name == "deployment-log-earlier":
        url += "?before=2"
    return url + ("?environment=prod" if name in PROJECT_ENVIRONMENT else "")


def expected(name: str, who: str, project: str) -> set[int] | str:
    """The statuses one caller may get; "ok" means anything but a refusal or a server error."""
    in_scope = project == "hello"
    if who == "admin":
        return "ok"
    if name in PUBLIC:
        return "ok"
    if name in OWN:
        return "ok"
    if name in OWN_POST:
        return {404}  # someone else's key is not found
    if name in ADMIN | ADMIN_POST:
        return {403}
    if name in GRANTED | GRANTED_REGISTRY:
        return {403} if who == "nobody" else "ok"
    if who == "nobody" or not in_scope:
        return {404}
    if name in PROJECT_READ | PROJECT_RELEASE:
        return "ok"
    if name in PROJECT_ENVIRONMENT | PROJECT_EDIT:
        return {403}  # Prod's values; editing needs the project-editor role
    if name in PROJECT_POST:
        return "ok-or-refused"
    raise AssertionError(f"unclassified {name}")


def call(client, name: str, url: str):
    if name in ADMIN_POST | PROJECT_POST | OWN_POST:
        return client.post(url, {"environment": "dev"})
    return client.get(url)


@pytest.mark.parametrize("who", ["admin", "deployer", "nobody"])
@pytest.mark.parametrize("project", ["hello", "shop"])
def test_every_endpoint_answers_each_role_as_specified(client, world, who, project):
    client.force_login(world[who])
    problems = []
    for name, kwargs in patterns():
        if name in ("logout", "api:api-root", "api-docs", "api-schema", "registry-hook"):
            continue
        if (who == "admin" and name in ADMIN_POST) or (
            who != "nobody" and name in GRANTED_REGISTRY
        ):
            continue  # would reach a registry or AWS the test has not
        url = sample(name, kwargs, world, project)
        status = call(client, name, url).status_code
        want = expected(name, who, project)
        if status >= 500:
            problems.append(f"{name} {url}: {status}")
        elif want == "ok" and status in (401, 403, 404):
            problems.append(f"{name} {url}: {status}, wanted an answer")
        elif want == "ok-or-refused" and status in (401, 404):
            problems.append(f"{name} {url}: {status}")
        elif isinstance(want, set) and status not in want:
            problems.append(f"{name} {url}: {status}, wanted {sorted(want)}")
    assert problems == [], "\n".join(problems)
