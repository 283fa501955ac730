"""``/api/projects/{slug}/variables/``: the whole set, write-only secrets, flat field errors."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from releases.models import Variable
from releases.variables import VariableInput, variable_set_replace
from tests.factories import EnvironmentFactory, ProjectFactory, VariableFactory

pytestmark = pytest.mark.django_db
URL = "/api/projects/shop/variables/"


@pytest.fixture
def project():
    return ProjectFactory(slug="shop")


@pytest.fixture
def dev(db):
    return EnvironmentFactory(name="Dev", slug="dev")


def test_get_lists_rows_with_scopes_and_hides_secret_values(admin_api, project, dev):
    VariableFactory(project=project, name="Color", value="red")
    VariableFactory(project=project, name="Color", value="blue", environments=[dev])
    VariableFactory(project=project, name="Token", type="sensitive", value="", secret_value="t0p")
    response = admin_api.get(URL)
    assert response.status_code == 200
    rows = response.json()["variables"]
    assert [(r["name"], r["value"], r["environments"]) for r in rows] == [
        ("Color", "red", []),
        ("Color", "blue", ["dev"]),
        ("Token", None, []),
    ]
    assert rows[2]["has_value"] is True and rows[2]["type"] == "sensitive"
    assert "t0p" not in response.content.decode()


def test_put_replaces_the_whole_set(admin_api, project, dev):
    old = VariableFactory(project=project, name="Old")
    body = {
        "variables": [
            {"name": "Color", "value": "red"},
            {"name": "Color", "value": "blue", "environments": ["dev"]},
            {"name": "Token", "value": "t0p", "type": "sensitive"},
        ]
    }
    response = admin_api.put(URL, body, format="json")
    assert response.status_code == 200, response.json()
    assert [r["name"] for r in response.json()["variables"]] == ["Color", "Color", "Token"]
    assert "t0p" not in response.content.decode()
    assert not Variable.objects.filter(pk=old.pk).exists()


def test_put_without_a_value_keeps_an_existing_secret(admin_api, project):
    token = VariableFactory(project=project, name="Token", type="sensitive", secret_value="t0p")
    body = {"variables": [{"id": token.pk, "name": "Token", "type": "sensitive"}]}
    assert admin_api.put(URL, body, format="json").status_code == 200
    token.refresh_from_db()
    assert token.secret_value == "t0p"


def test_bad_rows_are_a_400_with_every_message_and_nothing_changes(admin_api, project, dev):
    VariableFactory(project=project, name="Keep", value="1")
    body = {
        "variables": [
            {"name": "Keep", "value": "2"},
            {"name": "9lives", "value": "x"},
            {"name": "Color", "value": "x", "environments": ["nowhere"]},
            {"name": "Loop", "value": "#{Missing}"},
            {"name": "Package[web].Image", "value": "x"},
        ]
    }
    response = admin_api.put(URL, body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {
        "variables[1].name",
        "variables[2].environments",
        "variables[3].value",
        "variables[4].name",
    }
    assert list(Variable.objects.values_list("name", "value")) == [("Keep", "1")]


def test_a_malformed_body_is_a_400_with_flat_paths(admin_api, project):
    response = admin_api.put(URL, {"variables": [{"name": "A", "type": "bogus"}]}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["variables[0].type"]
    assert admin_api.put(URL, {}, format="json").json() == {
        "variables": ["This field is required."]
    }


def test_a_cycle_is_a_400(admin_api, project):
    body = {"variables": [{"name": "A", "value": "#{B}"}, {"name": "B", "value": "#{A}"}]}
    response = admin_api.put(URL, body, format="json")
    assert response.status_code == 400
    assert "Reference cycle" in response.json()["variables"][0]


def test_reading_needs_a_login_and_writing_needs_permission(api_client, viewer_user, project):
    assert api_client.get(URL).status_code == 401
    api_client.force_authenticate(viewer_user)
    assert api_client.get(URL).status_code == 200
    assert api_client.put(URL, {"variables": []}, format="json").status_code == 403


def test_an_unknown_project_is_a_404(admin_api, db):
    assert admin_api.get("/api/projects/nope/variables/").status_code == 404


def _queries(admin_api) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert admin_api.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_set(admin_api, project, dev):
    prod = EnvironmentFactory(name="Prod", slug="prod")
    VariableFactory(project=project, environments=[dev])
    _queries(admin_api)  # the first call of an API key also stamps its last use
    few = _queries(admin_api)
    for _ in range(30):
        VariableFactory(project=project, environments=[dev, prod])
        VariableFactory(project=project, type="sensitive", secret_value="s")
    assert _queries(admin_api) == few


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_saves_of_one_version_one_wins_the_others_get_409(
    live_server, admin_user, project
):
    """Each client adds one variable to the set it loaded: no addition is silently lost."""
    import threading

    import requests

    from deployserver.core.services import api_key_create

    _, key = api_key_create(user=admin_user, name="race")
    url = f"{live_server.url}/api/projects/{project.slug}/variables/"
    headers = {"Authorization": f"Token {key}"}
    loaded = requests.get(url, headers=headers).json()
    barrier = threading.Barrier(10)
    answers: list[int] = []

    def save(n: int):
        body = {
            "version": loaded["version"],
            "variables": [*loaded["variables"], {"name": f"Added{n}", "value": str(n)}],
        }
        barrier.wait()
        answers.append(requests.put(url, json=body, headers=headers).status_code)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == [200] + [409] * 9
    after = requests.get(url, headers=headers).json()
    assert after["version"] == loaded["version"] + 1
    assert len([v for v in after["variables"] if v["name"].startswith("Added")]) == 1


def test_the_variables_page_refuses_a_stale_save_with_409(client, admin_user, project):
    variable_set_replace(project=project, user=admin_user, rows=[VariableInput("A", "1")])
    client.force_login(admin_user)
    stale = {"version": "0", "row": ["0"], "v-0-name": "B", "v-0-type": "text", "v-0-value": "2"}
    response = client.post(f"/projects/{project.slug}/variables/", stale)
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert list(Variable.objects.filter(project=project).values_list("name", flat=True)) == ["A"]
