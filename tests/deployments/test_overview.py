"""A project's overview: what runs where, recent releases across environments, what may go next."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deployments.models import Deployment
from deployments.overview import BLOCKED, NOT_YET, project_overview
from releases.models import Project
from tests.factories import (
    DeploymentFactory,
    ProjectFactory,
    ReleaseFactory,
    deployed_at,
    make_lifecycle,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(dev_test_prod, standard_lifecycle):
    return ProjectFactory(name="Shop", slug="shop", lifecycle=standard_lifecycle)


def overview_of(project):
    return project_overview(Project.objects.select_related("lifecycle").get(pk=project.pk))


def test_cells_say_deployed_not_yet_or_blocked_with_the_lifecycles_reason(shop, dev_test_prod):
    dev, test = dev_test_prod["dev"], dev_test_prod["test"]
    old = ReleaseFactory(project=shop, version="1.0.0")
    new = ReleaseFactory(project=shop, version="1.1.0")
    deployed_at(old, dev, "success", timezone.now())
    deployed_at(old, test, "failed", timezone.now())
    overview = overview_of(shop)
    assert [c.environment.slug for c in overview.columns] == ["dev", "test", "prod"]
    newest, oldest = overview.rows
    assert newest.release == new and oldest.release == old
    assert [c.state for c in oldest.cells] == ["success", "failed", BLOCKED]
    assert (
        oldest.cells[2].reason == "Prod opens after phase Test has a successful deployment to Test."
    )
    assert [c.state for c in newest.cells] == [NOT_YET, BLOCKED, BLOCKED]
    assert all(c.current for c in oldest.cells[:2])


def test_each_environment_offers_the_newest_release_it_may_take(shop, dev_test_prod):
    dev, test, prod = dev_test_prod.values()
    r1 = ReleaseFactory(project=shop, version="1.0.0")
    r2 = ReleaseFactory(project=shop, version="1.1.0")
    r3 = ReleaseFactory(project=shop, version="1.2.0")
    for env in (dev, test, prod):
        deployed_at(r1, env, "success", timezone.now())
    deployed_at(r2, dev, "success", timezone.now())
    deployed_at(r2, test, "success", timezone.now())
    offers = {c.environment.slug: c.offer for c in overview_of(shop).columns}
    # Dev: 1.2.0 was never deployed (Deploy); Test: nothing newer may go there yet (1.2.0 has not
    # passed Dev; 1.1.0 is there); Prod: 1.1.0 passed Test (Promote).
    assert (offers["dev"].release, offers["dev"].promote) == (r3, False)
    assert offers["test"] is None
    assert (offers["prod"].release, offers["prod"].promote) == (r2, True)


def test_nothing_is_offered_where_a_deployment_is_pending(shop, dev_test_prod):
    dev = dev_test_prod["dev"]
    r1 = ReleaseFactory(project=shop, version="1.0.0")
    ReleaseFactory(project=shop, version="1.1.0")
    DeploymentFactory(release=r1, environment=dev, state=Deployment.State.EXECUTING)
    overview = overview_of(shop)
    assert overview.columns[0].offer is None
    assert overview.running


def test_the_page_shows_the_grid_and_buttons_that_post_to_the_deploy_action(
    admin_client, shop, dev_test_prod
):
    r1 = ReleaseFactory(project=shop, version="1.0.0")
    deployed_at(r1, dev_test_prod["dev"], "success", timezone.now())
    page = admin_client.get("/projects/shop/").content.decode()
    assert "Recent releases" in page and "Create release" in page
    assert f'action="/releases/{r1.pk}/deploy/"' in page
    assert re.search(r'name="environment" value="test".*Promote 1\.0\.0', page, re.S)
    assert 'title="Test opens after phase Dev' not in page  # 1.0.0 passed Dev
    assert 'aria-label="Blocked: Prod opens after phase Test' in page
    assert "hx-trigger" not in page  # nothing runs: no polling
    # The project's details stay on its page.
    assert "Follows the environment order" not in page and "<h2>Lifecycle</h2>" in page


def test_a_viewer_sees_no_deploy_buttons(viewer_client, shop, dev_test_prod):
    ReleaseFactory(project=shop, version="1.0.0")
    page = viewer_client.get("/projects/shop/").content.decode()
    assert "Recent releases" in page
    assert "/deploy/" not in page and "Create release" not in page


def test_a_project_without_releases_shows_how_to_begin(admin_client, shop):
    page = admin_client.get("/projects/shop/").content.decode()
    assert "How to begin" in page and "Recent releases" not in page
    assert "Define the deployment process" in page and "Set the variables" in page
    assert "goes Dev → Test → Prod." in page


def test_the_grid_polls_while_a_deployment_runs_and_stops_with_286(
    admin_client, shop, dev_test_prod
):
    r1 = ReleaseFactory(project=shop, version="1.0.0")
    running = DeploymentFactory(
        release=r1, environment=dev_test_prod["dev"], state=Deployment.State.EXECUTING
    )
    page = admin_client.get("/projects/shop/").content.decode()
    assert 'hx-get="/projects/shop/overview/grid/"' in page
    grid = admin_client.get("/projects/shop/overview/grid/")
    assert grid.status_code == 200 and "hx-trigger" in grid.content.decode()
    Deployment.objects.filter(pk=running.pk).update(state="success", finished_at=timezone.now())
    grid = admin_client.get("/projects/shop/overview/grid/")
    assert grid.status_code == 286
    assert "hx-trigger" not in grid.content.decode() and "badge-success" in grid.content.decode()


def test_the_overview_costs_the_same_queries_for_a_short_or_a_long_history(
    client, admin_user, shop, dev_test_prod
):
    client.force_login(admin_user)
    envs = list(dev_test_prod.values())

    def queries() -> int:
        client.get("/projects/shop/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/projects/shop/").status_code == 200
        return len(captured)

    release = ReleaseFactory(project=shop, created_by=admin_user)
    DeploymentFactory(release=release, environment=envs[0], created_by=admin_user)
    few = queries()
    for _ in range(30):
        release = ReleaseFactory(project=shop, created_by=admin_user)
        for env in envs:
            DeploymentFactory(release=release, environment=env, created_by=admin_user)
    assert queries() == few


def test_phase_headers_only_when_they_say_more_than_the_environments(release_train, dev_prod):
    trains = ProjectFactory(name="Trains", slug="trains", lifecycle=release_train)
    assert overview_of(trains).phase_headers == [("Build", 1), ("Ship", 1)]
    plain = make_lifecycle("Plain", [{"name": e.name, "envs": [e]} for e in dev_prod])
    project = ProjectFactory(name="Plain", slug="plain", lifecycle=plain)
    assert overview_of(project).phase_headers == []
