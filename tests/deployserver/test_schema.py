"""The OpenAPI schema is valid, complete and keeps the account secret write-only."""

import pytest
import yaml
from django.core.management import call_command


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    # --fail-on-warn: a view drf-spectacular cannot describe is a bug in that view.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_the_schema_describes_the_foundation_resources(schema):
    for path in (
        "/api/environments/",
        "/api/environments/{id}/",
        "/api/lifecycles/{id}/",
        "/api/accounts/{id}/test/",
        "/api/projects/{slug}/",
        "/api/audit/",
    ):
        assert path in schema["paths"], path
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["name"] == "Authorization"
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_the_account_secret_is_write_only_in_the_schema(schema):
    components = schema["components"]["schemas"]
    assert "secret_access_key" not in components["AwsAccount"]["properties"]
    assert components["AwsAccountRequest"]["properties"]["secret_access_key"]["writeOnly"]


@pytest.mark.django_db
def test_swagger_ui_is_served_from_the_package_to_signed_in_users(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/api/docs/").content.decode()
    # The start-up script naming the schema is its own response (no inline script).
    script = client.get("/api/docs/?script=").content.decode()
    assert "/api/schema/" in script
    assert "swagger-ui" in page and "cdn.jsdelivr.net" not in page + script
