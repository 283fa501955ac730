"""Every page at desktop (1280 px) and phone (420 px) width: nothing spills sideways.

Screenshots go to $UI_SHOTS_DIR (default /tmp/shots/ui) for a person to look at.
"""

import os
from pathlib import Path

import pytest

from deployserver.core.services import api_key_create, aws_account_create
from releases.models import Lifecycle
from releases.services import (
    PhaseSpec,
    environment_create,
    lifecycle_create,
    project_create,
)

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("UI_SHOTS_DIR", "/tmp/shots/ui"))
WIDTHS = {"desktop": 1280, "narrow": 420}
PAGES = [
    ("dashboard", "/"),
    ("projects", "/projects/"),
    ("project-detail", "/projects/web-shop/"),
    ("project-settings", "/projects/web-shop/settings/"),
    ("project-create", "/projects/new/"),
    ("environments", "/environments/"),
    ("environment-create", "/environments/new/"),
    ("environment-edit", "/environments/prod/edit/"),
    ("environment-delete", "/environments/dev/delete/"),
    ("lifecycles", "/lifecycles/"),
    ("lifecycle-create", "/lifecycles/new/"),
    ("lifecycle-edit", "/lifecycles/release-train/edit/"),
    ("accounts", "/library/accounts/"),
    ("account-create", "/library/accounts/new/"),
    ("account-edit", "/library/accounts/sandbox/edit/"),
    ("audit", "/audit/"),
    ("api-keys", "/account/api-keys/"),
]


@pytest.fixture
def seeded(transactional_db, admin_user):
    dev, test, prod = (
        environment_create(user=admin_user, name=name, description=f"The {name} cluster")
        for name in ("Dev", "Test", "Prod")
    )
    lifecycle = lifecycle_create(
        user=admin_user,
        name="Release train",
        description="Build in Dev and Test, ship to Prod.",
        phases=[
            PhaseSpec("Build", [dev, test], [dev]),
            PhaseSpec("Ship", [prod], is_optional=False),
        ],
    )
    for name in ("Web shop", "Billing API", "Search indexer"):
        project_create(user=admin_user, name=name, lifecycle=lifecycle, description=f"{name}.")
    project_create(user=admin_user, name="Reports", description="Nightly reports.")
    aws_account_create(
        user=admin_user,
        name="Sandbox",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:5000",
        description="moto sandbox",
    )
    api_key_create(user=admin_user, name="ci-pipeline")
    assert Lifecycle.objects.filter(is_default=True).exists()


def shoot(page, name: str, width: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than a {WIDTHS[width]}px window"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_window(live_server, seeded, signed_in, width):
    page = signed_in
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    for name, path in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        shoot(page, name, width)

    # States that only a submission shows.
    page.goto(f"{live_server.url}/environments/dev/delete/")
    page.get_by_role("button", name="Delete environment").click()
    shoot(page, "environment-delete-refused", width)
    page.goto(f"{live_server.url}/environments/new/")
    page.get_by_role("button", name="Create environment").click()
    shoot(page, "environment-create-errors", width)
    page.goto(f"{live_server.url}/account/api-keys/")
    page.get_by_label("Name").fill("deploy-bot")
    page.get_by_role("button", name="Create key").click()
    shoot(page, "api-key-created", width)
    page.goto(f"{live_server.url}/lifecycles/release-train/edit/")
    page.locator("#phases .phase").nth(1).get_by_label("Dev", exact=True).check()
    page.get_by_role("button", name="Save").click()
    shoot(page, "lifecycle-edit-errors", width)
    page.locator(".user summary").click()
    shoot(page, "user-menu", width)
    page.get_by_role("button", name="Log out").click()
    shoot(page, "login", width)
