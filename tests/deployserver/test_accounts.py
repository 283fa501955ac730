"""AWS accounts: the secret is encrypted at rest, write-only in the API, and survives rotation."""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from deployserver.core import aws, crypto
from deployserver.core.models import AwsAccount
from tests.factories import SECRET_ACCESS_KEY, AwsAccountFactory

pytestmark = pytest.mark.django_db

ACCOUNT = {
    "name": "Production",
    "access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "secret_access_key": SECRET_ACCESS_KEY,
    "region": "eu-west-1",
}


def stored_secret(account: AwsAccount) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_access_key FROM deployserver_awsaccount WHERE id = %s", [account.pk]
        )
        return cursor.fetchone()[0]


def test_the_secret_column_holds_a_token_not_the_secret():
    account = AwsAccountFactory()
    raw = stored_secret(account)
    assert raw.startswith("fernet:")
    assert SECRET_ACCESS_KEY not in raw
    assert AwsAccount.objects.get(pk=account.pk).secret_access_key == SECRET_ACCESS_KEY


def test_the_api_never_returns_the_secret(admin_api):
    created = admin_api.post("/api/accounts/", ACCOUNT, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/accounts/{created.json()['id']}/"
    responses = [
        created,
        admin_api.get("/api/accounts/"),
        admin_api.get(url),
        admin_api.patch(url, {"description": "main"}, format="json"),
        admin_api.get("/api/schema/"),
    ]
    for response in responses:
        assert response.status_code == 200 or response.status_code == 201
        assert SECRET_ACCESS_KEY not in response.content.decode()
    body = admin_api.get(url).json()
    assert "secret_access_key" not in body
    assert body["has_secret"] is True


def test_a_blank_secret_on_update_keeps_the_stored_one(admin_api):
    account = AwsAccountFactory()
    response = admin_api.patch(
        f"/api/accounts/{account.pk}/", {"secret_access_key": "", "region": "us-east-2"}
    )
    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert (account.secret_access_key, account.region) == (SECRET_ACCESS_KEY, "us-east-2")


def test_a_new_secret_on_update_replaces_the_stored_one(admin_api):
    account = AwsAccountFactory()
    admin_api.patch(f"/api/accounts/{account.pk}/", {"secret_access_key": "new-secret-value"})
    account.refresh_from_db()
    assert account.secret_access_key == "new-secret-value"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint_url": "not a url"}, "endpoint_url"),
        ({"endpoint_url": "ftp://127.0.0.1:5000"}, "endpoint_url"),
        ({"endpoint_url": "http://127.0.0.1:99999"}, "endpoint_url"),
        ({"region": "Europe"}, "region"),
        ({"region": ""}, "region"),
        ({"access_key_id": "short"}, "access_key_id"),
        ({"role_arn": "arn:aws:iam::12:role/x"}, "role_arn"),
        ({"secret_access_key": ""}, "secret_access_key"),
        ({"name": ""}, "name"),
    ],
    ids=[
        "endpoint-text",
        "endpoint-scheme",
        "endpoint-port",
        "region-word",
        "region-empty",
        "key-id",
        "role-arn",
        "no-secret",
        "no-name",
    ],
)
def test_bad_account_input_gets_400_with_the_field(admin_api, change, field):
    response = admin_api.post("/api/accounts/", {**ACCOUNT, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not AwsAccount.objects.exists()


def test_duplicate_account_names_get_400(admin_api):
    AwsAccountFactory(name="Production", slug="production")
    response = admin_api.post("/api/accounts/", ACCOUNT, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_rotating_the_master_key_keeps_every_secret_readable(settings, capsys):
    old = settings.MASTER_KEYS[0]
    new = crypto.generate_key()
    accounts = [AwsAccountFactory(), AwsAccountFactory(secret_access_key="second-secret")]
    before = [stored_secret(a) for a in accounts]

    settings.MASTER_KEYS = [new, old]
    call_command("rotate_master_key")
    assert "deployserver.AwsAccount.secret_access_key: 2 values rotated" in capsys.readouterr().out

    settings.MASTER_KEYS = [new]
    after = [stored_secret(a) for a in accounts]
    assert all(a != b for a, b in zip(after, before, strict=True))
    assert [AwsAccount.objects.get(pk=a.pk).secret_access_key for a in accounts] == [
        SECRET_ACCESS_KEY,
        "second-secret",
    ]
    settings.MASTER_KEYS = [old]
    with pytest.raises(crypto.DecryptionError):
        AwsAccount.objects.get(pk=accounts[0].pk)


def test_rotation_without_the_old_key_refuses_and_changes_nothing(settings):
    account = AwsAccountFactory()
    before = stored_secret(account)
    settings.MASTER_KEYS = [crypto.generate_key()]
    with pytest.raises(Exception, match="cannot be decrypted with any key"):
        call_command("rotate_master_key")
    assert stored_secret(account) == before


def test_generate_master_key_prints_a_usable_key(capsys):
    call_command("generate_master_key")
    key = capsys.readouterr().out.strip()
    with override_settings(MASTER_KEYS=[key]):
        assert crypto.decrypt(crypto.encrypt("x")) == "x"


# The one door to AWS, against a moto server over HTTP --------------------------------------------


def test_account_check_authenticates_against_the_endpoint(admin_api, aws_account):
    response = admin_api.post(f"/api/accounts/{aws_account.pk}/test/")
    assert response.status_code == 200, response.content
    assert response.json()["detail"].startswith("Authenticated as arn:aws:")


def test_an_account_with_a_role_acts_as_that_role(aws_account):
    aws_account.role_arn = "arn:aws:iam::123456789012:role/deployer"
    identity = aws.client(aws_account, "sts").get_caller_identity()
    assert ":assumed-role/deployer/deployserver" in identity["Arn"]
    credentials = aws.session_for(aws_account).get_credentials()
    assert credentials.token and credentials.access_key != aws_account.access_key_id


def test_an_unreachable_endpoint_gets_502_with_a_message(admin_api, aws_account, settings):
    settings.AWS_MAX_ATTEMPTS = 1
    aws_account.endpoint_url = "http://127.0.0.1:1"
    aws_account.save()
    response = admin_api.post(f"/api/accounts/{aws_account.pk}/test/")
    assert response.status_code == 502
    assert "127.0.0.1:1" in json.dumps(response.json())
