"""AWS ECR feeds against a moto server over HTTP."""

import time

import pytest

from deployserver.core.services import aws_account_create, aws_account_update
from feeds import services
from feeds.registries import RegistryNotFound, RegistryUnavailable, registry_for

from .registry_kit import ecr_manifest

pytestmark = pytest.mark.django_db


def test_versions_are_newest_first_without_pre_releases_or_other_tags(ecr_feed):
    versions = services.feed_versions(ecr_feed, "team/api")
    assert [v.version for v in versions] == ["2.0.0", "1.10.0", "1.9.0", "1.0.1", "1.0.0"]
    assert versions[0].tag == "v2.0.0"


def test_pre_releases_are_listed_when_asked(ecr_feed):
    versions = services.feed_versions(ecr_feed, "team/api", pre=True)
    assert [v.tag for v in versions] == [
        "v2.0.0",
        "1.10.0",
        "1.9.0",
        "1.1.0-beta.1",
        "1.0.1",
        "1.0.0",
    ]


def test_each_version_has_digest_pushed_at_and_size_from_describe_images(ecr_feed, ecr):
    detail = ecr.describe_images(repositoryName="team/api", imageIds=[{"imageTag": "1.9.0"}])[
        "imageDetails"
    ][0]
    version = next(v for v in services.feed_versions(ecr_feed, "team/api") if v.tag == "1.9.0")
    assert version.digest == detail["imageDigest"]
    assert version.pushed_at == detail["imagePushedAt"]
    assert version.size == detail["imageSizeInBytes"] > 0


def test_tags_that_are_not_semver_are_listed_apart(ecr_feed):
    listing = services.feed_version_listing(ecr_feed, "team/api")
    assert [t.tag for t in listing.other] == ["latest", "not-semver"]
    assert all(t.digest for t in listing.other)


def test_repositories_include_namespaced_ones_and_filter_by_name(ecr_feed):
    assert services.feed_packages(ecr_feed) == ["team/api", "web"]
    assert services.feed_packages(ecr_feed, "TEAM") == ["team/api"]
    assert services.feed_packages(ecr_feed, "nothing") == []


def test_digest_of_a_tag_and_image_references(ecr_feed, ecr):
    expected = ecr.describe_images(repositoryName="team/api", imageIds=[{"imageTag": "latest"}])[
        "imageDetails"
    ][0]["imageDigest"]
    digest = services.feed_resolve_digest(ecr_feed, "team/api", "latest")
    assert digest == expected
    host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert services.feed_image_reference(ecr_feed, "team/api", tag="1.0.0") == (
        f"{host}/team/api:1.0.0"
    )
    assert services.feed_image_reference(ecr_feed, "team/api", digest=digest) == (
        f"{host}/team/api@{digest}"
    )


def test_unknown_repository_and_unknown_tag_are_not_found(ecr_feed):
    with pytest.raises(RegistryNotFound, match="nope") as exc:
        services.feed_versions(ecr_feed, "nope")
    assert exc.value.status == 404
    with pytest.raises(RegistryNotFound):
        services.feed_resolve_digest(ecr_feed, "team/api", "9.9.9")


def test_test_summarises_the_registry(ecr_feed):
    assert services.feed_test(ecr_feed) == "2 repositories"


def test_listings_are_cached_until_refreshed(ecr_feed, ecr):
    assert len(services.feed_versions(ecr_feed, "web")) == 1
    ecr.put_image(repositoryName="web", imageManifest=ecr_manifest("web:0.2.0"), imageTag="0.2.0")
    cached = services.feed_version_listing(ecr_feed, "web")
    assert cached.from_cache and [v.tag for v in cached.versions] == ["0.1.0"]
    fresh = services.feed_version_listing(ecr_feed, "web", refresh=True)
    assert not fresh.from_cache and [v.tag for v in fresh.versions] == ["0.2.0", "0.1.0"]
    assert services.feed_version_listing(ecr_feed, "web").from_cache


def test_editing_the_feed_or_its_account_starts_a_new_listing(ecr_feed, ecr, admin_user):
    services.feed_versions(ecr_feed, "web")
    ecr.put_image(repositoryName="web", imageManifest=ecr_manifest("web:0.2.0"), imageTag="0.2.0")
    aws_account_update(account=ecr_feed.account, user=admin_user, description="changed")
    assert not services.feed_version_listing(ecr_feed, "web").from_cache


def test_moto_token_expired_in_2015_is_not_cached(ecr_feed):
    registry = registry_for(ecr_feed)
    calls = []
    registry.client.meta.events.register(
        "before-call.ecr.GetAuthorizationToken", lambda **kw: calls.append(1)
    )
    first = registry.authorization()
    registry.authorization()
    assert first.expires_at.year == 2015
    assert first.username == "AWS" and first.password
    assert len(calls) == 2


def test_a_role_is_assumed_through_sts_before_reading_the_registry(db, moto, ecr, admin_user):
    account = aws_account_create(
        user=admin_user,
        name="With role",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        role_arn="arn:aws:iam::123456789012:role/feeds-reader",
        endpoint_url=moto,
    )
    feed = services.feed_create(
        user=admin_user, name="Via role", feed_type="aws-ecr", account=account
    )
    registry = registry_for(feed)
    creds = registry.client._request_signer._credentials
    assert creds.token  # a session token: temporary credentials from AssumeRole
    assert services.feed_packages(feed) == ["team/api", "web"]


def test_a_dead_endpoint_is_reported_fast_as_connection_refused(db, admin_user):
    account = aws_account_create(
        user=admin_user,
        name="Dead",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="x",
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
    )
    feed = services.feed_create(user=admin_user, name="Dead", feed_type="aws-ecr", account=account)
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="Connection refused") as exc:
        services.feed_test(feed)
    assert time.monotonic() - started < 5
    assert exc.value.status == 502


def test_region_defaults_to_the_accounts(ecr_feed):
    assert ecr_feed.region == "us-east-1"
