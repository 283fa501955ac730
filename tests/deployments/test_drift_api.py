"""The drift rows as the API and the pages show them: filters, bad input, permissions, constant
queries, the badge on the dashboard and the overview, the deployment page's "What runs now"."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deployments.models import Deployment, ServiceDrift
from tests.factories import DeploymentFactory, ProjectFactory, ReleaseFactory

pytestmark = pytest.mark.django_db

REASON = "desired count 2 → 5 (changed outside deployserver)"


def drift_rows(lifecycle, environments, projects: int, state="drifted") -> list[ServiceDrift]:
    now = timezone.now()
    rows = []
    for _ in range(projects):
        project = ProjectFactory(lifecycle=lifecycle)
        release = ReleaseFactory(project=project)
        for env in environments:
            d = DeploymentFactory(release=release, environment=env, finished_at=now)
            rows.append(
                ServiceDrift.objects.create(
                    project=project,
                    environment=env,
                    step="Deploy web",
                    deployment=d,
                    cluster=f"{project.slug}-{env.slug}",
                    service=f"{project.slug}-{env.slug}",
                    state=state,
                    reasons=[REASON] if state != "in_sync" else [],
                    checked_at=now,
                    since=now,
                )  # fmt: skip
            )
    return rows


@pytest.fixture
def envs(dev_test_prod):
    return list(dev_test_prod.values())


def test_the_list_has_each_row_with_checked_at_and_filters_by_project_and_environment(
    admin_api, standard_lifecycle, envs
):
    rows = drift_rows(standard_lifecycle, envs, 2)
    body = admin_api.get("/api/drift/").json()
    assert body["count"] == 6
    first = rows[0]
    one = admin_api.get(f"/api/drift/?project={first.project.slug}&environment=dev").json()
    assert one["results"] == [
        {
            "project": first.project.slug,
            "environment": "dev",
            "step": "Deploy web",
            "cluster": first.cluster,
            "service": first.service,
            "state": "drifted",
            "reasons": [REASON],
            "since": one["results"][0]["since"],
            "checked_at": one["results"][0]["checked_at"],
            "deployment": first.deployment_id,
            "release_version": first.deployment.release.version,
        }
    ]
    assert one["results"][0]["checked_at"]
    assert admin_api.get("/api/drift/?environment=prod").json()["count"] == 2


@pytest.mark.parametrize(
    "query, field",
    [("project=nope", "project"), ("environment=nope", "environment"), ("project=a b", "project")],
)
def test_an_unknown_or_malformed_filter_is_400_naming_it(admin_api, envs, query, field):
    for response in (
        admin_api.get(f"/api/drift/?{query}"),
        admin_api.post(f"/api/drift/check/?{query}"),
    ):
        assert response.status_code == 400
        assert field in response.json()


def test_signed_out_is_refused_and_a_viewer_may_read_but_not_check(api_client, viewer_client, envs):
    assert api_client.get("/api/drift/").status_code in (401, 403)
    assert api_client.post("/api/drift/check/").status_code in (401, 403)
    assert viewer_client.get("/api/drift/").status_code == 200
    refused = viewer_client.post("/api/drift/check/")
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "This needs the admin role over every project and environment."
    )


def queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_list_and_the_dashboard_cost_the_same_queries_for_3_or_30_rows(
    admin_api, admin_client, standard_lifecycle, envs
):
    drift_rows(standard_lifecycle, envs, 1)
    api, page = queries(admin_api, "/api/drift/"), queries(admin_client, "/")
    drift_rows(standard_lifecycle, envs, 9)
    assert admin_api.get("/api/drift/").json()["count"] == 30
    assert queries(admin_api, "/api/drift/") == api
    assert queries(admin_client, "/") == page


def test_the_dashboard_and_the_overview_show_the_badge_with_its_reason(
    admin_client, standard_lifecycle, envs
):
    row = drift_rows(standard_lifecycle, envs[:1], 1)[0]
    page = admin_client.get("/").content.decode()
    link = f'href="/deployments/{row.deployment_id}/#drift"'
    assert 'class="drift drift-drifted"' in page and link in page
    assert REASON in page
    overview = admin_client.get(f"/projects/{row.project.slug}/").content.decode()
    assert 'class="drift drift-drifted"' in overview and REASON in overview


def test_the_deployment_page_says_what_runs_now_and_offers_a_redeploy_to_whoever_may(
    admin_client, viewer_user, standard_lifecycle, envs
):
    viewer_client = Client()
    viewer_client.force_login(viewer_user)
    row = drift_rows(standard_lifecycle, envs[:1], 1)[0]
    url = f"/deployments/{row.deployment_id}/"
    page = admin_client.get(url).content.decode()
    assert 'id="drift"' in page and REASON in page
    assert "Redeploy to restore" in page
    assert f'action="/deployments/{row.deployment_id}/redeploy/"' in page
    viewer = viewer_client.get(url).content.decode()
    assert REASON in viewer and "Redeploy to restore" not in viewer
    assert viewer_client.post(f"{url}redeploy/").status_code == 403

    ServiceDrift.objects.filter(pk=row.pk).update(state="in_sync", reasons=[])
    assert "Redeploy to restore" not in admin_client.get(url).content.decode()


def test_redeploy_to_restore_queues_the_same_release_again(admin_client, standard_lifecycle, envs):
    row = drift_rows(standard_lifecycle, envs[:1], 1)[0]
    response = admin_client.post(f"/deployments/{row.deployment_id}/redeploy/")
    again = Deployment.objects.exclude(pk=row.deployment_id).get()
    assert response.status_code == 302 and response["Location"] == f"/deployments/{again.pk}/"
    assert (again.release_id, again.environment_id, again.trigger) == (
        row.deployment.release_id,
        row.environment_id,
        "redeploy",
    )


def test_a_deployer_checks_and_reads_only_the_projects_and_environments_of_their_grants(
    client, standard_lifecycle, envs
):
    from deployserver.core.models import Grant, Team
    from tests.factories import UserFactory

    mine, other = drift_rows(standard_lifecycle, envs, 2)[::3][:2]
    dev, prod = envs[0], envs[-1]
    deployer = UserFactory(username="dev-deployer")
    deployer.save()  # keeps the password the factory set, so the session stays valid
    team = Team.objects.create(name="Developers")
    team.members.add(deployer)
    grant = Grant.objects.create(team=team, role="deployer", all_projects=False,
                                 all_environments=False)  # fmt: skip
    grant.projects.set([mine.project])
    grant.environments.set([dev])
    client.force_login(deployer)

    response = client.get("/api/drift/")
    assert response.status_code == 200, response.content
    listed = response.json()["results"]
    assert {(r["project"], r["environment"]) for r in listed} == {(mine.project.slug, "dev")}
    check = {"project": mine.project.slug, "environment": "dev"}
    assert client.post("/api/drift/check/", check).status_code == 200
    refused = client.post("/api/drift/check/", {**check, "environment": prod.slug})
    assert refused.status_code == 403
    assert "Prod" in refused.json()["detail"]
    assert client.post("/api/drift/check/").status_code == 403  # every project: administrators
