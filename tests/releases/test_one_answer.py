"""Rules with one home in the services: the page and the API give the same answer, and a page's
GET never writes."""

import pytest
from django.urls import reverse

from releases.models import Environment, Lifecycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev(db):
    return Environment.objects.create(name="Dev", slug="dev", sort_order=0)


def phase_page_post(name: str, environments: list[Environment]) -> dict:
    return {
        "name": "Train",
        "slug": "",
        "description": "",
        "phases-TOTAL_FORMS": "1",
        "phases-INITIAL_FORMS": "0",
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "1000",
        "phases-0-name": name,
        "phases-0-minimum_environments": "0",
        "phases-0-environments": [str(e.pk) for e in environments],
        "phases-0-ORDER": "1",
        "phases-0-DELETE": "False",
    }


def test_page_and_api_give_the_same_message_for_a_duplicate_environment(
    admin_client, admin_api, dev
):
    message = "Phase 1 (Build): environment Dev is named more than once."
    page = admin_client.post(reverse("lifecycle-create"), phase_page_post("Build", [dev, dev]))
    api = admin_api.post(
        "/api/lifecycles/",
        {"name": "Train", "phases": [{"name": "Build", "environments": ["dev", "dev"]}]},
        format="json",
    )
    assert (page.status_code, api.status_code) == (400, 400)
    assert page.context["phase_errors"] == [message]
    assert api.json()["phases"] == [message]
    assert not Lifecycle.objects.filter(name="Train").exists()


def test_the_project_create_page_never_writes_the_default_lifecycle(admin_client):
    Lifecycle.objects.all().delete()
    response = admin_client.get(reverse("project-create"))
    assert response.status_code == 200
    assert not Lifecycle.objects.exists()


def test_the_project_create_page_preselects_the_default_lifecycle(admin_client):
    default = Lifecycle.objects.get(is_default=True)
    response = admin_client.get(reverse("project-create"))
    assert response.context["form"]["lifecycle"].value() == default.pk
