"""The OpenAPI schema documents the variables, process and preview endpoints."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_lists_the_new_endpoints(admin_api):
    response = admin_api.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"get", "put"} <= set(paths["/api/projects/{slug}/variables/"])
    assert {"get", "put"} <= set(paths["/api/projects/{slug}/process/"])
    preview = paths["/api/projects/{slug}/process/preview/"]["get"]
    assert [p["name"] for p in preview["parameters"] if p["in"] == "query"] == ["environment"]
