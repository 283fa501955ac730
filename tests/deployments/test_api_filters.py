"""The deployments API's filters (``?project=&environment=&state=``) and the dashboard's
``?project=`` do what the API documents, together."""

import pytest

from tests.factories import DeploymentFactory, ProjectFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployments(bare_project, dev_test_prod, standard_lifecycle):
    other = ProjectFactory(name="Other", slug="other", lifecycle=standard_lifecycle)
    mine, theirs = ReleaseFactory(project=bare_project), ReleaseFactory(project=other)
    return {
        "bare-dev-ok": DeploymentFactory(release=mine, environment=dev_test_prod["dev"]),
        "bare-dev-failed": DeploymentFactory(
            release=mine, environment=dev_test_prod["dev"], state="failed"
        ),
        "bare-test-ok": DeploymentFactory(release=mine, environment=dev_test_prod["test"]),
        "other-dev-ok": DeploymentFactory(release=theirs, environment=dev_test_prod["dev"]),
    }


def ids(admin_api, query: str) -> set[int]:
    response = admin_api.get(f"/api/deployments/?{query}")
    assert response.status_code == 200
    return {d["id"] for d in response.json()["results"]}


def test_deployments_filter_by_project_environment_and_state_together(admin_api, deployments):
    d = {name: dep.pk for name, dep in deployments.items()}
    assert ids(admin_api, "project=bare") == {
        d["bare-dev-ok"],
        d["bare-dev-failed"],
        d["bare-test-ok"],
    }
    assert ids(admin_api, "project=other") == {d["other-dev-ok"]}
    assert ids(admin_api, "project=bare&environment=dev") == {
        d["bare-dev-ok"],
        d["bare-dev-failed"],
    }
    assert ids(admin_api, "project=bare&environment=dev&state=success") == {d["bare-dev-ok"]}
    assert ids(admin_api, "environment=dev&state=success") == {d["bare-dev-ok"], d["other-dev-ok"]}
    assert ids(admin_api, "project=nobody") == set()


def test_the_dashboard_api_filters_by_project(admin_api, deployments):
    every = admin_api.get("/api/dashboard/").json()
    assert [p["slug"] for p in every["projects"]] == ["bare", "other"]
    one = admin_api.get("/api/dashboard/?project=other").json()
    assert [p["slug"] for p in one["projects"]] == ["other"]
    assert one["projects"][0]["environments"]["dev"]["deployment"] == deployments["other-dev-ok"].pk
    assert admin_api.get("/api/dashboard/?project=nobody").json()["projects"] == []


def test_the_schema_documents_the_deployment_filters(admin_api):
    schema = admin_api.get("/api/schema/?format=json").json()
    listed = schema["paths"]["/api/deployments/"]["get"]["parameters"]
    assert {"project", "environment", "state"} <= {p["name"] for p in listed}
