"""What moto cannot show: paginated DescribeImages and the expiry of registry tokens.

botocore's Stubber answers with the responses AWS documents, page by page.
"""

import base64
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, SSLError
from botocore.stub import Stubber
from django.core.cache import cache

from deployserver.core.services import aws_account_create
from feeds import services
from feeds.registries import ecr as ecr_module
from feeds.registries import registry_for

pytestmark = pytest.mark.django_db
PUSHED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def stubbed(aws_account, monkeypatch):
    client = boto3.client(
        "ecr",
        region_name="eu-west-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
    )
    monkeypatch.setattr(ecr_module.aws, "client", lambda *args, **kwargs: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def feed(admin_user, aws_account):
    return services.feed_create(
        user=admin_user,
        name="Stubbed",
        feed_type="aws-ecr",
        account=aws_account,
        region="eu-west-1",
        registry_id="210987654321",
    )


def image(tags, n):
    return {
        "registryId": "210987654321",
        "repositoryName": "team/api",
        "imageDigest": f"sha256:{n:064x}",
        "imageTags": tags,
        "imageSizeInBytes": 1000 + n,
        "imagePushedAt": PUSHED + timedelta(minutes=n),
    }


def test_describe_images_pages_are_all_read(stubbed, feed):
    base = {
        "repositoryName": "team/api",
        "registryId": "210987654321",
        "filter": {"tagStatus": "TAGGED"},
        "maxResults": 1000,
    }
    stubbed.add_response(
        "describe_images",
        {"imageDetails": [image(["1.0.0"], 1), image(["1.2.0", "stable"], 2)], "nextToken": "p2"},
        base,
    )
    stubbed.add_response(
        "describe_images",
        {"imageDetails": [image(["1.10.0"], 3)], "nextToken": "p3"},
        {**base, "nextToken": "p2"},
    )
    stubbed.add_response(
        "describe_images", {"imageDetails": [image(["2.0.0-rc.1"], 4)]}, {**base, "nextToken": "p3"}
    )
    listing = services.feed_version_listing(feed, "team/api")
    assert [v.tag for v in listing.select(pre=True)] == ["2.0.0-rc.1", "1.10.0", "1.2.0", "1.0.0"]
    newest = listing.select()[0]
    assert (newest.digest, newest.size, newest.pushed_at) == (
        f"sha256:{3:064x}",
        1003,
        PUSHED + timedelta(minutes=3),
    )
    assert [t.tag for t in listing.other] == ["stable"]


def token_response(expires_at):
    token = base64.b64encode(b"AWS:registry-password").decode()
    return {
        "authorizationData": [
            {
                "authorizationToken": token,
                "expiresAt": expires_at,
                "proxyEndpoint": "https://210987654321.dkr.ecr.eu-west-1.amazonaws.com",
            }
        ]
    }


TOKEN_PARAMS = {"registryIds": ["210987654321"]}


def test_a_fresh_token_is_cached_until_shortly_before_it_expires(stubbed, feed):
    stubbed.add_response(
        "get_authorization_token",
        token_response(datetime.now(UTC) + timedelta(hours=12)),
        TOKEN_PARAMS,
    )
    first = registry_for(feed).authorization()
    second = registry_for(feed).authorization()  # no second response queued: from the cache
    assert (first.username, first.password) == ("AWS", "registry-password")
    assert second == first
    key = registry_for(feed)._cache_key("token")
    ttl = cache._cache.get_client(key).ttl(cache.make_key(key))
    assert timedelta(hours=11, minutes=29) < timedelta(seconds=ttl) <= timedelta(hours=11.5)
    # Stored encrypted: the password is not readable in the cache.
    assert "registry-password" not in str(cache.get(key))


@pytest.mark.parametrize(
    "expires_in", [timedelta(minutes=10), timedelta(seconds=-1), timedelta(days=-4000)]
)
def test_a_token_expiring_soon_or_expired_is_not_cached(stubbed, feed, expires_in):
    for _ in range(2):
        stubbed.add_response(
            "get_authorization_token",
            token_response(datetime.now(UTC) + expires_in),
            TOKEN_PARAMS,
        )
    registry_for(feed).authorization()
    registry_for(feed).authorization()  # asks AWS again: both responses are used


def test_the_image_host_comes_from_the_token_and_is_remembered(stubbed, feed):
    stubbed.add_response(
        "get_authorization_token",
        token_response(datetime.now(UTC) - timedelta(hours=1)),
        TOKEN_PARAMS,
    )
    for _ in range(2):
        assert services.feed_image_reference(feed, "team/api", tag="1.0.0") == (
            "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.0.0"
        )


def test_refused_keys_are_reported_as_bad_credentials(stubbed, feed):
    stubbed.add_client_error(
        "describe_repositories",
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        400,
    )
    with pytest.raises(ecr_module.RegistryUnavailable, match="Bad credentials"):
        services.feed_packages(feed)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            EndpointConnectionError(endpoint_url="https://api.ecr.eu-west-9.amazonaws.com/"),
            "Unknown region eu-west-9 or no network: could not connect to https://api.ecr",
        ),
        (ConnectTimeoutError(endpoint_url="https://api.ecr.eu-west-9.amazonaws.com/"), "Timeout"),
        (SSLError(endpoint_url="https://x/", error="certificate verify failed"), "TLS error"),
    ],
)
def test_network_failures_name_their_reason(admin_user, db, error, reason):
    """No real part fails this way on demand (no network here), so the mapping is checked alone."""
    account = aws_account_create(
        user=admin_user,
        name="Real AWS",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="x",
        region="eu-west-9",
    )
    feed = services.feed_create(user=admin_user, name="Far", feed_type="aws-ecr", account=account)
    registry = registry_for(feed)
    with pytest.raises(ecr_module.RegistryUnavailable, match=reason), registry._errors():
        raise error
