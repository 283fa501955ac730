import pytest

from tests.releases.factories import (
    EnvironmentFactory,
    LifecycleFactory,
    PhaseEnvironmentFactory,
    PhaseFactory,
    ProjectFactory,
)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def viewer_client(client, viewer_user):
    client.force_login(viewer_user)
    return client


@pytest.fixture
def dev_prod(db):
    """Two environments, Dev and Prod, in that order."""
    return (
        EnvironmentFactory(name="Dev", slug="dev", sort_order=1),
        EnvironmentFactory(name="Prod", slug="prod", sort_order=2),
    )


@pytest.fixture
def release_train(dev_prod):
    """A lifecycle "Release train" with phases Build (Dev) and Ship (Prod), and a project on it."""
    dev, prod = dev_prod
    lifecycle = LifecycleFactory(name="Release train", slug="release-train")
    build = PhaseFactory(lifecycle=lifecycle, name="Build", sort_order=0)
    ship = PhaseFactory(lifecycle=lifecycle, name="Ship", sort_order=1)
    PhaseEnvironmentFactory(phase=build, environment=dev)
    PhaseEnvironmentFactory(phase=ship, environment=prod, automatic=True)
    ProjectFactory(name="Web shop", slug="web-shop", lifecycle=lifecycle)
    return lifecycle


def phase_post(name="Train", slug="", phases=(), total=None, initial=0) -> dict:
    """POST data of the lifecycle form. ``phases``: dicts with name, environments, automatic…"""
    data = {
        "name": name,
        "slug": slug,
        "description": "",
        "phases-TOTAL_FORMS": str(len(phases) if total is None else total),
        "phases-INITIAL_FORMS": str(initial),
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "1000",
    }
    for i, phase in enumerate(phases):
        prefix = f"phases-{i}-"
        data[prefix + "name"] = phase["name"]
        data[prefix + "minimum_environments"] = str(phase.get("minimum", 0))
        data[prefix + "environments"] = [str(e.pk) for e in phase.get("environments", ())]
        data[prefix + "automatic_environments"] = [str(e.pk) for e in phase.get("automatic", ())]
        data[prefix + "ORDER"] = str(phase.get("order", i + 1))
        data[prefix + "DELETE"] = "True" if phase.get("delete") else "False"
        if phase.get("optional"):
            data[prefix + "is_optional"] = "on"
    return data
