"""AWS accounts in the browser: the secret stays hidden and Test connection answers inline."""

import pytest
from playwright.sync_api import expect

from deployserver.core.models import AwsAccount

pytestmark = pytest.mark.e2e

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_add_an_account_and_test_its_connection(live_server, signed_in, moto):
    page = signed_in
    page.locator(".nav summary", has_text="Library").click()
    page.get_by_role("link", name="AWS accounts").click()
    page.get_by_role("link", name="Add account").click()
    page.get_by_label("Name").fill("Sandbox")
    page.get_by_label("Access key ID").fill("AKIAIOSFODNN7EXAMPLE")
    page.get_by_label("Secret access key").fill(SECRET)
    page.get_by_label("Default region").fill("us-east-1")
    page.get_by_label("Endpoint URL").fill(moto)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".msg-success")).to_have_text("AWS account Sandbox created.")

    page.get_by_role("link", name="Sandbox").click()
    expect(page.get_by_label("Secret access key")).to_have_value("")
    assert SECRET not in page.content()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#check-result .inline-result.ok")).to_contain_text(
        "Authenticated as arn:aws:sts::"
    )

    # An endpoint nobody listens on: a red message in place, no error page.
    account = AwsAccount.objects.get(slug="sandbox")
    account.endpoint_url = "http://127.0.0.1:9"
    account.save()
    page.reload()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#check-result .inline-result.error")).to_contain_text(
        "127.0.0.1:9", timeout=30_000
    )
