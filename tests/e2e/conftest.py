import pytest


@pytest.fixture
def signed_in(page, live_server, transactional_db, admin_user):
    """A Chromium page signed in as the admin through the login form."""
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page
