"""Library → Feeds in a real Chromium: create an ECR feed, test it, browse its versions."""

import re
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

SHOTS = Path("/tmp/shots/feeds")


@pytest.fixture
def signed_in(page, live_server, admin_user):
    client = Client()
    client.force_login(admin_user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return page


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.e2e
def test_create_test_search_and_browse_an_ecr_feed(
    signed_in, live_server, transactional_db, aws_account, ecr
):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/library/feeds/")
    shoot(page, "01-list-empty")
    page.get_by_role("link", name="Add feed").first.click()

    page.get_by_label("Name", exact=True).fill("Sandbox ECR")
    page.get_by_label("Type", exact=True).select_option("aws-ecr")
    expect(page.get_by_label("Registry URL")).to_be_hidden()
    page.get_by_label("AWS account").select_option(label="Sandbox")
    shoot(page, "02-form-ecr")
    page.get_by_role("button", name="Save & test").click()

    expect(page.locator("#test-result")).to_contain_text("✓ 2 repositories")
    shoot(page, "03-form-tested")

    page.get_by_role("link", name="Sandbox ECR").click()
    expect(page.locator("#repositories")).to_contain_text("team/api")
    page.get_by_placeholder("Search repositories").fill("team")
    expect(page.locator(".repo-list li")).to_have_count(1)
    shoot(page, "04-feed-search")

    page.get_by_role("link", name="team/api").click()
    expect(page.get_by_role("heading", name="team/api")).to_be_visible()
    versions = page.locator("#versions table.versions tbody tr td:first-child")
    expect(versions).to_have_text(["2.0.0", "1.10.0", "1.9.0", "1.0.1", "1.0.0"])
    shoot(page, "05-versions")

    page.get_by_label("Pre-releases").check()
    expect(versions).to_have_count(6)
    expect(page.locator("#versions")).to_contain_text("1.1.0-beta.1")
    page.get_by_label("Other tags").check()
    expect(page.locator("#versions")).to_contain_text("not-semver")
    shoot(page, "06-versions-pre-other")

    page.get_by_placeholder("Filter tags").fill("1.1")
    expect(versions).to_have_text([re.compile(r"1\.10\.0"), re.compile(r"1\.1\.0-beta\.1")])
    copy = page.locator("button.copy", has_text=":tag").first
    expect(copy).to_have_attribute(
        "data-copy", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:1.10.0"
    )

    page.set_viewport_size({"width": 420, "height": 800})
    page.get_by_placeholder("Filter tags").fill("")
    expect(versions).to_have_count(6)
    shoot(page, "07-versions-narrow")
    page.goto(f"{live_server.url}/library/feeds/")
    shoot(page, "08-list-narrow")


@pytest.mark.e2e
def test_docker_feed_form_and_digest_on_demand(
    signed_in, live_server, transactional_db, registry_anon
):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/library/feeds/new/")
    page.get_by_label("Name", exact=True).fill("Open registry")
    page.get_by_label("Type", exact=True).select_option("docker-registry")
    expect(page.get_by_label("AWS account")).to_be_hidden()
    page.get_by_label("Registry URL").fill(registry_anon.url)
    shoot(page, "09-form-docker")
    page.get_by_role("button", name="Create feed").click()
    expect(page.locator("#repositories")).to_contain_text("tools/ci/runner")
    page.get_by_role("link", name="tools/ci/runner").click()
    page.get_by_role("button", name="Get digest").click()
    expect(page.locator("td.digest-cell code")).to_be_visible()
    expect(page.locator("td.digest-cell button.copy")).to_have_attribute(
        "data-copy", re.compile(r"^127\.0\.0\.1:\d+/tools/ci/runner@sha256:[0-9a-f]{64}$")
    )
    shoot(page, "10-docker-digest")
