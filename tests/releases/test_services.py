"""Rules of environments, lifecycles and projects, as the services enforce them."""

import pytest
from django.core.exceptions import ValidationError

from deployserver.core.models import AuditEvent
from releases import selectors, services
from releases.models import Environment, Lifecycle, Phase, PhaseEnvironment, Project
from releases.services import PhaseSpec
from tests.factories import EnvironmentFactory, LifecycleFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev_test_prod():
    return [
        EnvironmentFactory(name="Dev", slug="dev", sort_order=1),
        EnvironmentFactory(name="Test", slug="test", sort_order=2),
        EnvironmentFactory(name="Prod", slug="prod", sort_order=3),
    ]


def counts() -> tuple[int, int, int]:
    return Lifecycle.objects.count(), Phase.objects.count(), PhaseEnvironment.objects.count()


def errors_of(excinfo) -> str:
    return " ".join(excinfo.value.messages)


# Environments ------------------------------------------------------------------------------------


def test_new_environment_goes_after_the_last_one(admin_user, dev_test_prod):
    staging = services.environment_create(user=admin_user, name="Staging")
    assert staging.slug == "staging"
    assert staging.sort_order == 4


def test_environment_names_and_slugs_are_unique(admin_user, dev_test_prod):
    with pytest.raises(ValidationError) as excinfo:
        services.environment_create(user=admin_user, name="Dev", slug="dev-2")
    assert "name" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.environment_create(user=admin_user, name="Development", slug="dev")
    assert "slug" in excinfo.value.message_dict


def test_environment_needs_a_name(admin_user):
    with pytest.raises(ValidationError) as excinfo:
        services.environment_create(user=admin_user, name="")
    assert "name" in excinfo.value.message_dict
    assert Environment.objects.count() == 0


def test_deleting_an_environment_a_lifecycle_uses_is_refused_naming_the_lifecycle(
    admin_user, dev_test_prod
):
    dev = dev_test_prod[0]
    services.lifecycle_create(
        user=admin_user, name="Fast track", phases=[PhaseSpec(name="Dev", environments=[dev])]
    )
    with pytest.raises(ValidationError) as excinfo:
        services.environment_delete(environment=dev, user=admin_user)
    assert "Fast track" in errors_of(excinfo)
    assert Environment.objects.filter(pk=dev.pk).exists()
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_deleting_an_unused_environment_removes_it_and_records_who(admin_user, dev_test_prod):
    services.environment_delete(environment=dev_test_prod[2], user=admin_user)
    assert list(Environment.objects.values_list("slug", flat=True)) == ["dev", "test"]
    event = AuditEvent.objects.get(action="delete")
    assert (event.actor, event.object_type, event.object_repr) == (
        admin_user,
        "releases.environment",
        "Prod",
    )


# Lifecycles and phases ---------------------------------------------------------------------------


def test_lifecycle_keeps_its_phases_in_the_order_given(admin_user, dev_test_prod):
    dev, test, prod = dev_test_prod
    lifecycle = services.lifecycle_create(
        user=admin_user,
        name="Standard",
        phases=[
            PhaseSpec(name="Try", environments=[dev, test], automatic_environments=[dev]),
            PhaseSpec(name="Ship", environments=[prod], is_optional=True),
        ],
    )
    phases = selectors.lifecycle_effective_phases(selectors.lifecycle_list().get(pk=lifecycle.pk))
    assert [(p.name, [e.slug for e in p.environments]) for p in phases] == [
        ("Try", ["dev", "test"]),
        ("Ship", ["prod"]),
    ]
    assert [e.slug for e in phases[0].automatic] == ["dev"]
    assert phases[1].is_optional and not phases[0].is_optional


def test_a_phase_naming_one_environment_twice_is_refused_and_nothing_is_written(
    admin_user, dev_test_prod
):
    dev = dev_test_prod[0]
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.lifecycle_create(
            user=admin_user, name="Twice", phases=[PhaseSpec(name="Dev", environments=[dev, dev])]
        )
    assert "Dev is named more than once" in errors_of(excinfo)
    assert counts() == before


def test_an_environment_in_two_phases_of_one_lifecycle_is_refused(admin_user, dev_test_prod):
    dev, test, _ = dev_test_prod
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.lifecycle_create(
            user=admin_user,
            name="Overlap",
            phases=[
                PhaseSpec(name="First", environments=[dev]),
                PhaseSpec(name="Second", environments=[test, dev]),
            ],
        )
    assert "Dev is already in Phase 1 (First)" in errors_of(excinfo)
    assert counts() == before


def test_one_environment_may_be_in_phases_of_different_lifecycles(admin_user, dev_test_prod):
    dev = dev_test_prod[0]
    for name in ("One", "Two"):
        services.lifecycle_create(
            user=admin_user, name=name, phases=[PhaseSpec(name="Dev", environments=[dev])]
        )
    assert PhaseEnvironment.objects.filter(environment=dev).count() == 2


@pytest.mark.parametrize(
    ("make_phases", "message"),
    [
        (lambda d, t: [PhaseSpec(name="", environments=[d])], "a phase needs a name"),
        (lambda d, t: [PhaseSpec(name="Empty")], "pick at least one environment"),
        (
            lambda d, t: [PhaseSpec(name="A", environments=[d]), PhaseSpec("a", [t])],
            "another phase is already called a",
        ),
        (
            lambda d, t: [PhaseSpec(name="A", environments=[d], automatic_environments=[t])],
            "Test is automatic but not one of the phase's environments",
        ),
        (
            lambda d, t: [PhaseSpec(name="A", environments=[d], minimum_environments=2)],
            "minimum number of environments must be between 0 (all) and 1",
        ),
    ],
    ids=["no-name", "no-environment", "duplicate-name", "automatic-outside", "minimum-too-high"],
)
def test_bad_phases_are_refused_with_a_message(admin_user, dev_test_prod, make_phases, message):
    dev, test, _ = dev_test_prod
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.lifecycle_create(user=admin_user, name="Bad", phases=make_phases(dev, test))
    assert message in errors_of(excinfo)
    assert counts() == before


def test_a_refused_phase_update_keeps_the_old_phases(admin_user, dev_test_prod):
    dev, test, _ = dev_test_prod
    lifecycle = services.lifecycle_create(
        user=admin_user, name="Keep", phases=[PhaseSpec(name="Dev", environments=[dev])]
    )
    with pytest.raises(ValidationError):
        services.lifecycle_update(
            lifecycle=lifecycle,
            user=admin_user,
            description="changed",
            phases=[PhaseSpec(name="X", environments=[test, test])],
        )
    lifecycle.refresh_from_db()
    assert lifecycle.description == ""
    assert [p.name for p in lifecycle.phases.all()] == ["Dev"]


def test_updating_phases_replaces_them_and_audits_the_change(admin_user, dev_test_prod):
    dev, test, prod = dev_test_prod
    lifecycle = services.lifecycle_create(
        user=admin_user, name="Grow", phases=[PhaseSpec(name="Dev", environments=[dev])]
    )
    services.lifecycle_update(
        lifecycle=lifecycle,
        user=admin_user,
        phases=[PhaseSpec(name="Early", environments=[dev, test]), PhaseSpec("Late", [prod])],
    )
    assert [p.name for p in lifecycle.phases.order_by("sort_order")] == ["Early", "Late"]
    event = AuditEvent.objects.filter(action="update").get()
    assert event.changes["phases"][1][1]["environments"] == ["Prod"]


def test_a_lifecycle_without_phases_follows_the_environment_order(admin_user, dev_test_prod):
    dev = dev_test_prod[0]
    dev.sort_order = 10
    dev.save()
    default = services.lifecycle_default()
    phases = selectors.lifecycle_effective_phases(default)
    assert [p.name for p in phases] == ["Test", "Prod", "Dev"]
    assert all(p.implied for p in phases)


def test_the_default_lifecycle_exists_after_migrations_and_cannot_be_deleted(admin_user):
    default = Lifecycle.objects.get(is_default=True)
    assert services.lifecycle_default() == default
    with pytest.raises(ValidationError) as excinfo:
        services.lifecycle_delete(lifecycle=default, user=admin_user)
    assert "default lifecycle cannot be deleted" in errors_of(excinfo)
    assert Lifecycle.objects.filter(pk=default.pk).exists()


def test_a_lifecycle_used_by_a_project_cannot_be_deleted(admin_user):
    project = ProjectFactory(name="Shop")
    with pytest.raises(ValidationError) as excinfo:
        services.lifecycle_delete(lifecycle=project.lifecycle, user=admin_user)
    assert "used by the project Shop" in errors_of(excinfo)
    assert Lifecycle.objects.filter(pk=project.lifecycle_id).exists()


def test_an_unused_lifecycle_is_deleted_with_its_phases(admin_user, dev_test_prod):
    lifecycle = services.lifecycle_create(
        user=admin_user, name="Gone", phases=[PhaseSpec(name="Dev", environments=dev_test_prod[:1])]
    )
    services.lifecycle_delete(lifecycle=lifecycle, user=admin_user)
    assert not Lifecycle.objects.filter(pk=lifecycle.pk).exists()
    assert not Phase.objects.filter(lifecycle_id=lifecycle.pk).exists()


# Projects ----------------------------------------------------------------------------------------


def test_a_new_project_without_a_lifecycle_gets_the_default_one(admin_user):
    project = services.project_create(user=admin_user, name="Web Shop")
    assert project.slug == "web-shop"
    assert project.lifecycle.is_default


def test_a_project_keeps_the_lifecycle_it_is_given(admin_user):
    lifecycle = LifecycleFactory()
    project = services.project_create(user=admin_user, name="Api", lifecycle=lifecycle)
    assert project.lifecycle == lifecycle


def test_clearing_a_projects_lifecycle_falls_back_to_the_default(admin_user):
    project = ProjectFactory()
    services.project_update(project=project, user=admin_user, lifecycle=None)
    project.refresh_from_db()
    assert project.lifecycle.is_default


def test_project_names_are_unique(admin_user):
    ProjectFactory(name="Shop", slug="shop")
    with pytest.raises(ValidationError) as excinfo:
        services.project_create(user=admin_user, name="Shop")
    assert {"name", "slug"} <= set(excinfo.value.message_dict)
    assert Project.objects.count() == 1
