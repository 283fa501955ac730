"""The foundation in a real browser: sign in, set up environments and a lifecycle, sign out."""

import pytest
from playwright.sync_api import expect

from releases.models import Lifecycle

pytestmark = pytest.mark.e2e


def add_environment(page, name: str) -> None:
    page.get_by_role("link", name="Environments", exact=True).click()
    page.locator(".page-head").get_by_role("link", name="Add environment").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create environment").click()
    expect(page.locator(".msg-success")).to_have_text(f"Environment {name} created.")


def phase(page, index: int):
    return page.locator("#phases .phase:visible").nth(index)


def test_sign_in_set_up_a_lifecycle_see_errors_and_sign_out(live_server, signed_in):
    page = signed_in
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("link", name="Create an environment")).to_be_visible()

    add_environment(page, "Dev")
    add_environment(page, "Prod")
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Dev")
    expect(rows.nth(1)).to_contain_text("Prod")

    # The phase editor: add three phases, move one up, remove one, then save.
    page.get_by_role("link", name="Lifecycles", exact=True).click()
    page.get_by_role("link", name="Add lifecycle").click()
    page.get_by_label("Name", exact=True).fill("Two phases")
    expect(page.locator("#no-phases")).to_be_visible()
    for _ in range(3):
        page.get_by_role("button", name="+ Add phase").click()
    expect(page.locator("#no-phases")).to_be_hidden()
    phase(page, 0).get_by_label("Name").fill("Ship")
    phase(page, 0).get_by_label("Prod", exact=True).check()
    phase(page, 0).locator("tr", has_text="Prod").get_by_label("deploy automatically").check()
    phase(page, 1).get_by_label("Name").fill("Scratch")
    phase(page, 2).get_by_label("Name").fill("Build")
    phase(page, 2).get_by_label("Dev", exact=True).check()
    phase(page, 2).get_by_role("button", name="Move phase up").click()
    phase(page, 1).get_by_role("button", name="Move phase up").click()
    expect(phase(page, 0).locator(".phase-number")).to_have_text("Phase 1")
    expect(phase(page, 0).get_by_label("Name")).to_have_value("Build")
    phase(page, 2).get_by_role("button", name="Remove").click()
    expect(page.locator("#phases .phase:visible")).to_have_count(2)

    # First a mistake: Dev in both phases is refused above the phases, nothing is saved.
    phase(page, 1).get_by_label("Dev", exact=True).check()
    page.get_by_role("button", name="Create lifecycle").click()
    expect(page.locator("#phase-errors")).to_contain_text(
        "Phase 2 (Ship): environment Dev is already in Phase 1 (Build)"
    )
    assert not Lifecycle.objects.filter(name="Two phases").exists()
    expect(phase(page, 0).get_by_label("Name")).to_have_value("Build")
    phase(page, 1).get_by_label("Dev", exact=True).uncheck()
    page.get_by_role("button", name="Create lifecycle").click()

    expect(page.locator(".msg-success")).to_have_text("Lifecycle Two phases saved.")
    row = page.locator("tr", has_text="Two phases")
    expect(row.locator(".chip")).to_have_text(["Build", "Ship"])
    lifecycle = Lifecycle.objects.get(name="Two phases")
    phases = list(lifecycle.phases.prefetch_related("phase_environments__environment"))
    assert [p.name for p in phases] == ["Build", "Ship"]
    assert [(pe.environment.name, pe.automatic) for pe in phases[1].phase_environments.all()] == [
        ("Prod", True)
    ]

    # A validation error is shown next to the field it is about.
    page.get_by_role("link", name="Environments", exact=True).click()
    page.locator(".page-head").get_by_role("link", name="Add environment").click()
    page.get_by_label("Name").fill("Dev")
    page.get_by_role("button", name="Create environment").click()
    name_field = page.locator(".field", has=page.get_by_label("Name"))
    expect(name_field.locator(".field-error")).to_have_text(
        "Environment with this Name already exists."
    )

    # Sign out from the user menu.
    page.locator(".user summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.goto(f"{live_server.url}/environments/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/environments/")
