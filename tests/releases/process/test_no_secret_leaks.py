"""No sensitive value ever leaves the server: every endpoint and page that shows variables,
the process or a preview is walked, including error answers that quote values."""

import base64

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from releases.process import process_update
from tests.factories import ecs_step
from tests.scenarios import SECRET

pytestmark = pytest.mark.django_db
FORMS = [SECRET, base64.b64encode(SECRET.encode()).decode(), 'p@ss\\"word', "p@ss"]


def routes(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def concrete(route: str) -> str:
    return "/" + route.replace("<slug:slug>", "hello-color").lstrip("^").rstrip("$")


def assert_clean(response):
    body = response.content.decode()
    for form in FORMS:
        assert form not in body, f"{response.request['PATH_INFO']} shows a sensitive value"


def test_the_walk_covers_every_variables_process_and_preview_route():
    found = {
        r
        for r in routes()
        if "<slug:slug>" in r and any(w in r for w in ("variables", "process", "preview"))
    }
    assert found == {
        "api/projects/<slug:slug>/variables/",
        "api/projects/<slug:slug>/process/",
        "api/projects/<slug:slug>/process/preview/",
        "projects/<slug:slug>/variables/",
        "projects/<slug:slug>/process/",
        "projects/<slug:slug>/process/preview/",
    }


def test_no_endpoint_or_page_shows_a_sensitive_value(admin_api, client, admin_user, hello_project):
    client.force_login(admin_user)
    for route in routes():
        if "<slug:slug>" not in route or not any(
            w in route for w in ("variables", "process", "preview")
        ):
            continue
        for query in ("", "?environment=dev", "?environment=prod"):
            url = concrete(route) + query
            response = (admin_api if route.startswith("api/") else client).get(url)
            assert response.status_code in (200, 400), url
            assert_clean(response)
    for url in ("/api/audit/", "/api/projects/hello-color/", "/audit/"):
        response = (admin_api if url.startswith("/api/") else client).get(url)
        assert response.status_code == 200, url
        assert_clean(response)


def test_writes_answer_without_the_secret(admin_api, hello_project):
    data = admin_api.get("/api/projects/hello-color/variables/").json()
    response = admin_api.put("/api/projects/hello-color/variables/", data, format="json")
    assert response.status_code == 200
    assert_clean(response)
    process = admin_api.get("/api/projects/hello-color/process/").json()
    response = admin_api.put("/api/projects/hello-color/process/", process, format="json")
    assert response.status_code == 200
    assert_clean(response)


def test_an_error_quoting_a_substituted_secret_is_masked(
    admin_api, hello_project, admin_user, ecs_example_feed
):
    process_update(
        project=hello_project,
        steps=[
            ecs_step(ecs_example_feed, task_cpu="#{DbPassword}", cluster="#{DbPassword | ToUpper}")
        ],
        user=admin_user,
    )
    response = admin_api.get("/api/projects/hello-color/process/preview/?environment=dev")
    assert response.status_code == 400
    assert (
        "Enter a whole number (got '********')"
        in response.json()["steps[0].properties.task_cpu"][0]
    )
    assert_clean(response)
    assert SECRET.upper() not in response.content.decode()


def test_a_refused_sensitive_value_is_not_quoted(admin_api, hello_project):
    data = admin_api.get("/api/projects/hello-color/variables/").json()
    data["variables"].append({"name": "Broken", "type": "sensitive", "value": "#{" + SECRET})
    response = admin_api.put("/api/projects/hello-color/variables/", data, format="json")
    assert response.status_code == 400
    assert_clean(response)
