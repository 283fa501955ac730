"""REST API for environments, lifecycles and projects: statuses, field errors, no half writes."""

import pytest

from releases.models import Environment, Lifecycle, Phase, PhaseEnvironment, Project
from tests.factories import EnvironmentFactory, LifecycleFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def envs():
    return [
        EnvironmentFactory(name="Dev", slug="dev", sort_order=1),
        EnvironmentFactory(name="Test", slug="test", sort_order=2),
        EnvironmentFactory(name="Prod", slug="prod", sort_order=3),
    ]


def lifecycle_rows() -> tuple[int, int, int]:
    return Lifecycle.objects.count(), Phase.objects.count(), PhaseEnvironment.objects.count()


# Environments ------------------------------------------------------------------------------------


def test_environment_crud(admin_api):
    created = admin_api.post("/api/environments/", {"name": "Dev"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "dev"
    url = f"/api/environments/{created.json()['id']}/"
    changed = admin_api.patch(url, {"description": "for developers"}, format="json")
    assert changed.status_code == 200
    assert admin_api.get(url).json()["description"] == "for developers"
    assert admin_api.delete(url).status_code == 204
    assert admin_api.get(url).status_code == 404


def test_environment_list_is_paginated_in_sort_order(admin_api, envs):
    body = admin_api.get("/api/environments/?page_size=2").json()
    assert body["count"] == 3
    assert [e["slug"] for e in body["results"]] == ["dev", "test"]
    assert body["next"]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": "Dev"}, "name", "already exists"),
        ({"name": "Development", "slug": "dev"}, "slug", "already exists"),
        ({"name": "dev!"}, "slug", "already exists"),
        ({"name": ""}, "name", "may not be blank"),
        ({}, "name", "required"),
        ({"name": "!!!"}, "slug", "cannot be blank"),
        ({"name": "Bad slug", "slug": "not a slug"}, "slug", "valid"),
        ({"name": "Neg", "sort_order": -1}, "sort_order", "greater than or equal to 0"),
    ],
    ids=[
        "dup-name",
        "dup-slug",
        "dup-derived-slug",
        "empty-name",
        "no-name",
        "empty-slug",
        "bad-slug",
        "negative-order",
    ],
)
def test_bad_environment_input_gets_400_with_the_field(admin_api, envs, payload, field, message):
    response = admin_api.post("/api/environments/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert message in " ".join(response.json()[field])
    assert Environment.objects.count() == 3


def test_malformed_json_gets_400_with_a_clear_message(admin_api):
    response = admin_api.post(
        "/api/environments/", data='{"name": "Dev",', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert Environment.objects.count() == 0


def test_deleting_an_environment_in_use_gets_400_naming_the_lifecycle(admin_api, envs):
    admin_api.post(
        "/api/lifecycles/",
        {"name": "Main", "phases": [{"name": "Dev", "environments": ["dev"]}]},
        format="json",
    )
    response = admin_api.delete(f"/api/environments/{envs[0].pk}/")
    assert response.status_code == 400
    assert "lifecycle Main" in response.json()["detail"]
    assert Environment.objects.filter(pk=envs[0].pk).exists()


# Lifecycles --------------------------------------------------------------------------------------


def test_lifecycle_with_two_phases_round_trips(admin_api, envs):
    payload = {
        "name": "Standard",
        "phases": [
            {"name": "Test", "environments": ["dev", "test"], "automatic_environments": ["dev"]},
            {"name": "Production", "environments": ["prod"], "is_optional": True},
        ],
    }
    created = admin_api.post("/api/lifecycles/", payload, format="json")
    assert created.status_code == 201, created.content
    body = admin_api.get(f"/api/lifecycles/{created.json()['id']}/").json()
    assert body["slug"] == "standard"
    assert body["phases"] == [
        {
            "name": "Test",
            "is_optional": False,
            "minimum_environments": 0,
            "environments": ["dev", "test"],
            "automatic_environments": ["dev"],
        },
        {
            "name": "Production",
            "is_optional": True,
            "minimum_environments": 0,
            "environments": ["prod"],
            "automatic_environments": [],
        },
    ]


def test_put_replaces_the_phases(admin_api, envs):
    created = admin_api.post(
        "/api/lifecycles/",
        {"name": "Main", "phases": [{"name": "All", "environments": ["dev", "test", "prod"]}]},
        format="json",
    ).json()
    response = admin_api.put(
        f"/api/lifecycles/{created['id']}/",
        {"name": "Main", "phases": [{"name": "P", "environments": ["prod"]}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [p["environments"] for p in response.json()["phases"]] == [["prod"]]
    assert PhaseEnvironment.objects.count() == 1


@pytest.mark.parametrize(
    ("phases", "message"),
    [
        ([{"name": "Dev", "environments": ["dev", "dev"]}], "Dev is named more than once"),
        (
            [{"name": "A", "environments": ["dev"]}, {"name": "B", "environments": ["dev"]}],
            "Dev is already in Phase 1 (A)",
        ),
        ([{"name": "A", "environments": []}], "pick at least one environment"),
    ],
    ids=["env-twice-in-phase", "env-in-two-phases", "no-environment"],
)
def test_bad_phases_get_400_and_nothing_is_written(admin_api, envs, phases, message):
    before = lifecycle_rows()
    response = admin_api.post("/api/lifecycles/", {"name": "Bad", "phases": phases}, format="json")
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()["phases"])
    assert lifecycle_rows() == before


def test_a_phase_naming_an_unknown_environment_gets_a_field_error(admin_api, envs):
    before = lifecycle_rows()
    response = admin_api.post(
        "/api/lifecycles/",
        {"name": "Bad", "phases": [{"name": "A", "environments": ["nowhere"]}]},
        format="json",
    )
    assert response.status_code == 400
    assert "nowhere" in str(response.json()["phases"])
    assert lifecycle_rows() == before


def test_deleting_the_default_lifecycle_gets_400(admin_api):
    default = Lifecycle.objects.get(is_default=True)
    response = admin_api.delete(f"/api/lifecycles/{default.pk}/")
    assert response.status_code == 400
    assert "default lifecycle cannot be deleted" in response.json()["detail"]


def test_deleting_a_lifecycle_in_use_gets_400_naming_the_project(admin_api):
    project = ProjectFactory(name="Shop")
    response = admin_api.delete(f"/api/lifecycles/{project.lifecycle_id}/")
    assert response.status_code == 400
    assert "Shop" in response.json()["detail"]


# Projects ----------------------------------------------------------------------------------------


def test_a_project_is_addressed_by_slug_and_defaults_to_the_default_lifecycle(admin_api):
    created = admin_api.post("/api/projects/", {"name": "Web Shop"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["lifecycle"] == "default"
    body = admin_api.get("/api/projects/web-shop/").json()
    assert body["name"] == "Web Shop"
    lifecycle = LifecycleFactory(slug="fast")
    moved = admin_api.patch("/api/projects/web-shop/", {"lifecycle": "fast"}, format="json")
    assert moved.status_code == 200
    assert Project.objects.get(slug="web-shop").lifecycle == lifecycle
    assert admin_api.delete("/api/projects/web-shop/").status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Shop"}, "name"),
        ({"name": "Other", "slug": "shop"}, "slug"),
        ({"name": ""}, "name"),
        ({"name": "X", "lifecycle": "nope"}, "lifecycle"),
        ({"name": "New"}, "slug"),
    ],
    ids=["dup-name", "dup-slug", "empty-name", "unknown-lifecycle", "reserved-slug"],
)
def test_bad_project_input_gets_400_with_the_field(admin_api, payload, field):
    ProjectFactory(name="Shop", slug="shop")
    response = admin_api.post("/api/projects/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Project.objects.count() == 1


def test_viewers_read_but_cannot_write(api_client, viewer_user, envs):
    api_client.force_login(viewer_user)
    assert api_client.get("/api/environments/").status_code == 200
    assert api_client.get("/api/projects/").status_code == 200
    for method, url, body in [
        ("post", "/api/environments/", {"name": "Mine"}),
        ("patch", f"/api/environments/{envs[0].pk}/", {"name": "Mine"}),
        ("delete", f"/api/environments/{envs[0].pk}/", None),
        ("post", "/api/lifecycles/", {"name": "Mine"}),
        ("post", "/api/projects/", {"name": "Mine"}),
        ("post", "/api/accounts/", {"name": "Mine"}),
    ]:
        response = getattr(api_client, method)(url, body, format="json")
        assert response.status_code == 403, (method, url, response.status_code)
    assert Environment.objects.count() == 3
    assert not Project.objects.exists()
