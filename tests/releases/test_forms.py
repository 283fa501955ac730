"""Forms of environments, lifecycles and projects: errors shown in place, nothing half-written,
services doing the writes."""

import re

import pytest
from django.urls import reverse

from deployserver.core.models import AuditEvent
from releases.models import Environment, Lifecycle, PhaseEnvironment, Project
from tests.form_kit import field_errors, phase_post

pytestmark = pytest.mark.django_db


# Environments ----------------------------------------------------------------------------------


def test_creating_an_environment_puts_it_last_and_audits_it(admin_client, dev_prod):
    response = admin_client.post(reverse("environment-create"), {"name": "Test"})
    assert response.status_code == 302
    test = Environment.objects.get(name="Test")
    assert (test.slug, test.sort_order) == ("test", 3)
    assert AuditEvent.objects.filter(object_type="releases.environment", action="create").exists()


def test_a_duplicate_environment_name_is_shown_next_to_the_name(admin_client, dev_prod):
    response = admin_client.post(reverse("environment-create"), {"name": "Dev", "slug": "dev-2"})
    assert response.status_code == 400
    assert field_errors(response, "name") == ["Environment with this Name already exists."]
    assert Environment.objects.count() == 2


def test_an_empty_environment_name_is_required(admin_client):
    response = admin_client.post(reverse("environment-create"), {"name": "  "})
    assert response.status_code == 400
    assert field_errors(response, "name") == ["This field is required."]


def test_refused_environment_delete_keeps_it_and_names_the_lifecycle(admin_client, release_train):
    response = admin_client.post(reverse("environment-delete", kwargs={"slug": "dev"}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Release train" in page and "Nothing was deleted." in page
    assert Environment.objects.filter(slug="dev").exists()
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_an_unused_environment_is_deleted_after_confirmation(admin_client, dev_prod):
    response = admin_client.post(reverse("environment-delete", kwargs={"slug": "prod"}))
    assert response.status_code == 302
    assert list(Environment.objects.values_list("slug", flat=True)) == ["dev"]


# Lifecycles and the phase editor ---------------------------------------------------------------


def test_a_lifecycle_is_created_with_phases_in_the_order_the_editor_left(admin_client, dev_prod):
    dev, prod = dev_prod
    data = phase_post(
        name="Two step",
        phases=[
            {"name": "Ship", "environments": [prod], "automatic": [prod], "order": 2},
            {"name": "Build", "environments": [dev], "order": 1, "optional": True},
            {"name": "Dropped", "environments": [dev], "order": 3, "delete": True},
        ],
    )
    response = admin_client.post(reverse("lifecycle-create"), data)
    assert response.status_code == 302, response.content.decode()
    lifecycle = Lifecycle.objects.get(slug="two-step")
    phases = list(lifecycle.phases.all())
    assert [(p.name, p.is_optional) for p in phases] == [("Build", True), ("Ship", False)]
    ship = PhaseEnvironment.objects.get(phase=phases[1])
    assert (ship.environment, ship.automatic) == (prod, True)


def test_a_phase_naming_one_environment_twice_is_shown_above_the_phases(admin_client, dev_prod):
    dev, prod = dev_prod
    data = phase_post(phases=[{"name": "Build", "environments": [dev, dev]}])
    response = admin_client.post(reverse("lifecycle-create"), data)
    assert response.status_code == 400
    # The lifecycle service's message, the one the API gives too.
    assert "Phase 1 (Build): environment Dev is named more than once." in (
        response.content.decode()
    )
    assert not Lifecycle.objects.filter(slug="train").exists()


def test_an_environment_in_two_phases_is_shown_above_the_phases(admin_client, dev_prod):
    dev, prod = dev_prod
    data = phase_post(
        phases=[
            {"name": "Build", "environments": [dev]},
            {"name": "Again", "environments": [dev, prod]},
        ]
    )
    response = admin_client.post(reverse("lifecycle-create"), data)
    assert response.status_code == 400
    errors = re.search(r'id="phase-errors">(.*?)</div>', response.content.decode(), re.S).group(1)
    assert "Phase 2 (Again): environment Dev is already in Phase 1 (Build)" in errors
    assert not Lifecycle.objects.filter(slug="train").exists()


def test_a_phase_without_a_name_is_shown_next_to_its_name(admin_client, dev_prod):
    data = phase_post(phases=[{"name": "", "environments": [dev_prod[0]]}])
    response = admin_client.post(reverse("lifecycle-create"), data)
    assert response.status_code == 400
    assert field_errors(response, "phases-0-name") == ["This field is required."]


def test_a_duplicate_lifecycle_name_keeps_the_stored_phases(admin_client, release_train, dev_prod):
    dev, prod = dev_prod
    data = phase_post(
        name="Default Lifecycle",
        slug="release-train",
        phases=[{"name": "Only", "environments": [dev, prod]}],
        initial=2,
    )
    response = admin_client.post(reverse("lifecycle-edit", kwargs={"slug": "release-train"}), data)
    assert response.status_code == 400
    assert field_errors(response, "name") == ["Lifecycle with this Name already exists."]
    assert [p.name for p in release_train.phases.all()] == ["Build", "Ship"]


def test_editing_a_lifecycle_shows_its_phases_and_saves_the_new_ones(
    admin_client, release_train, dev_prod
):
    url = reverse("lifecycle-edit", kwargs={"slug": "release-train"})
    page = admin_client.get(url).content.decode()
    assert 'value="Build"' in page and 'value="Ship"' in page
    dev, prod = dev_prod
    data = phase_post(
        name="Release train",
        slug="release-train",
        phases=[{"name": "Everything", "environments": [dev, prod], "minimum": 1}],
    )
    assert admin_client.post(url, data).status_code == 302
    phase = release_train.phases.get()
    assert (phase.name, phase.minimum_environments) == ("Everything", 1)
    assert AuditEvent.objects.filter(object_type="releases.lifecycle", action="update").exists()


def test_a_lifecycle_used_by_a_project_is_not_deleted(admin_client, release_train):
    response = admin_client.post(reverse("lifecycle-delete", kwargs={"slug": "release-train"}))
    assert response.status_code == 400
    assert "Web shop" in response.content.decode()
    assert Lifecycle.objects.filter(slug="release-train").exists()


# Projects --------------------------------------------------------------------------------------


def test_a_new_project_defaults_to_the_default_lifecycle(admin_client, release_train):
    page = admin_client.get(reverse("project-create")).content.decode()
    default = Lifecycle.objects.get(is_default=True)
    assert f'<option value="{default.pk}" selected>' in page
    assert re.search(r'<input type="checkbox" name="pin_digest"[^>]*checked', page)
    response = admin_client.post(
        reverse("project-create"), {"name": "Billing", "lifecycle": default.pk}
    )
    assert response["Location"] == reverse("project-detail", kwargs={"slug": "billing"})
    billing = Project.objects.get(slug="billing")
    assert (billing.lifecycle, billing.pin_digest) == (default, False)


def test_a_duplicate_project_name_is_shown_next_to_the_name(admin_client, release_train):
    response = admin_client.post(
        reverse("project-create"),
        {"name": "Web shop", "slug": "other", "lifecycle": release_train.pk},
    )
    assert response.status_code == 400
    assert field_errors(response, "name") == ["Project with this Name already exists."]


def test_project_settings_rename_and_the_overview_shows_the_phases(admin_client, release_train):
    url = reverse("project-edit", kwargs={"slug": "web-shop"})
    data = {
        "name": "Web store",
        "slug": "web-shop",
        "lifecycle": release_train.pk,
        "version_template": "2.0.i",
    }
    assert admin_client.post(url, data).status_code == 302
    project = Project.objects.get(slug="web-shop")
    assert (project.version_template, project.pin_digest) == ("2.0.i", False)
    page = admin_client.get(reverse("project-detail", kwargs={"slug": "web-shop"}))
    html = page.content.decode()
    assert "Web store" in html and "Build" in html and "Ship" in html
    assert 'aria-current="page">Overview</a>' in html
