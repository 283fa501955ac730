"""Query parameters are typed: a value a parameter cannot take answers 400 naming it (never
ignored); the list filters (django-filter) and the flags (one parser for pages and API) do what
the schema says; the schema declares every operation's errors and types every response."""

import pytest

from deployserver.web.params import parse_flag, query_flag
from tests.factories import DeploymentFactory, ProjectFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query, field",
    [
        ("page_size=abc", "page_size"),
        ("page_size=0", "page_size"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
    ],
)
def test_pagination_parameters_that_are_not_whole_numbers_are_a_400(admin_api, query, field):
    response = admin_api.get(f"/api/environments/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_a_page_past_the_last_is_a_404_and_a_big_page_size_is_capped(admin_api, dev_test_prod):
    assert admin_api.get("/api/environments/?page=9").status_code == 404
    body = admin_api.get("/api/environments/?page_size=100000").json()
    assert body["count"] == 3 and len(body["results"]) == 3


@pytest.mark.parametrize(
    "query, field",
    [("state=bogus", "state"), ("release=abc", "release"), ("release=1.5", "release")],
)
def test_invalid_deployment_filters_are_a_400_naming_the_filter(admin_api, query, field):
    response = admin_api.get(f"/api/deployments/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_the_release_filter_of_deployments(admin_api, bare_project, dev_test_prod):
    release = ReleaseFactory(project=bare_project)
    mine = DeploymentFactory(release=release, environment=dev_test_prod["dev"])
    DeploymentFactory(
        release=ReleaseFactory(project=bare_project), environment=dev_test_prod["dev"]
    )
    listed = admin_api.get(f"/api/deployments/?release={release.pk}").json()["results"]
    assert [d["id"] for d in listed] == [mine.pk]


def test_projects_filter_by_part_of_the_name(admin_api, standard_lifecycle):
    ProjectFactory(name="Billing API", slug="billing", lifecycle=standard_lifecycle)
    ProjectFactory(name="Web", slug="web", lifecycle=standard_lifecycle)
    listed = admin_api.get("/api/projects/?name=bill").json()["results"]
    assert [p["slug"] for p in listed] == ["billing"]


def test_releases_filter_by_channel(admin_api, bare_project):
    ReleaseFactory(project=bare_project, version="1.0.0")
    listed = admin_api.get("/api/projects/bare/releases/?channel=default").json()["results"]
    assert [r["version"] for r in listed] == ["1.0.0"]
    assert admin_api.get("/api/projects/bare/releases/?channel=other").json()["results"] == []


def test_feeds_filter_by_part_of_the_name(admin_api, release_feed):
    assert [f["id"] for f in admin_api.get("/api/feeds/?q=ec").json()["results"]] == [
        release_feed.pk
    ]
    assert admin_api.get("/api/feeds/?q=nothing").json()["results"] == []
    assert admin_api.get("/api/feeds/?feed_type=bogus").status_code == 400


def test_feed_flags_that_are_not_flag_values_are_a_400(admin_api, release_feed):
    url = f"/api/feeds/{release_feed.pk}/packages/hello-color/versions/"
    assert admin_api.get(url, {"pre": "yes"}).status_code == 200
    response = admin_api.get(url, {"pre": "maybe"})
    assert response.status_code == 400 and "pre" in response.json()
    response = admin_api.get(f"/api/feeds/{release_feed.pk}/packages/", {"refresh": "2"})
    assert response.status_code == 400 and "refresh" in response.json()


def test_pages_and_api_read_flags_the_same_way():
    for value in ("1", "true", "TRUE", "yes", "on"):
        assert parse_flag(value) is True
        assert query_flag({"x": value}, "x") is True
    for value in ("", "0", "false", "no", "off", None):
        assert parse_flag(value) is False
        assert query_flag({"x": value}, "x") is False
    with pytest.raises(ValueError):
        parse_flag("maybe")
    assert query_flag({"x": "maybe"}, "x") is False  # a page has no 400 to give for a link


@pytest.fixture
def schema(admin_api) -> dict:
    return admin_api.get("/api/schema/?format=json").json()


def test_every_operation_declares_its_errors_and_a_typed_success(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "401", "403", "429"} <= set(responses), (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert {"409", "413"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            for code, response in responses.items():
                if code == "204":
                    continue
                body = response["content"]["application/json"]["schema"]
                assert body != {"type": "object", "additionalProperties": {}}, (method, path, code)
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["detail"]["type"] == "string"


def test_upstream_failures_are_declared_where_aws_or_a_registry_answers(schema):
    paths = schema["paths"]
    for path, method in [
        ("/api/accounts/{id}/test/", "post"),
        ("/api/feeds/{id}/test/", "post"),
        ("/api/feeds/{id}/packages/", "get"),
        ("/api/feeds/{id}/packages/{package_id}/versions/", "get"),
        ("/api/projects/{slug}/process/preview/", "get"),
    ]:
        assert "502" in paths[path][method]["responses"], path


def test_query_parameters_are_declared_with_their_types(schema):
    def params(path):
        return {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}

    versions = params("/api/feeds/{id}/packages/{package_id}/versions/")
    assert versions["pre"]["type"] == versions["refresh"]["type"] == "boolean"
    assert versions["limit"]["type"] == "integer"
    deployments = params("/api/deployments/")
    assert deployments["release"]["type"] == "integer"
    assert deployments["page_size"] == {"type": "integer", "minimum": 1}


def test_page_last_is_the_last_page(admin_api, dev_test_prod):
    body = admin_api.get("/api/environments/?page_size=2&page=last").json()
    assert [e["slug"] for e in body["results"]] == ["prod"]
