"""Tags as semantic versions: parsing and SemVer 2 precedence."""

import random

import pytest

from feeds.registries import Tag
from feeds.versions import parse_tag, split_tags


@pytest.mark.parametrize(
    ("tag", "version"),
    [
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("1.0.0-rc.1", "1.0.0-rc.1"),
        ("v2.0.0-beta.2+build.7", "2.0.0-beta.2+build.7"),
    ],
)
def test_a_semver_tag_parses_with_or_without_a_leading_v(tag, version):
    assert str(parse_tag(tag)) == version


@pytest.mark.parametrize("tag", ["latest", "main", "1.2", "v1", "1.2.3.4", "01.2.3", "V1.2.3", ""])
def test_tags_that_are_not_semver_do_not_parse(tag):
    assert parse_tag(tag) is None


def test_versions_are_newest_first_by_semver_precedence_not_by_text():
    # The order from SemVer 2 section 11, plus numeric minor/patch comparisons.
    expected = [
        "2.0.0",
        "1.10.0",
        "1.9.0",
        "1.0.0",
        "1.0.0-rc.1",
        "1.0.0-beta.11",
        "1.0.0-beta.2",
        "1.0.0-beta",
        "1.0.0-alpha.beta",
        "1.0.0-alpha.1",
        "1.0.0-alpha",
        "0.9.12",
        "0.9.2",
    ]
    tags = [Tag(v) for v in expected]
    random.Random(4).shuffle(tags)
    versions, other = split_tags(tags)
    assert [v.version for v in versions] == expected
    assert other == []


def test_other_tags_are_kept_apart_sorted_by_name():
    versions, other = split_tags([Tag("latest"), Tag("1.0.0"), Tag("feature-x"), Tag("v1")])
    assert [v.tag for v in versions] == ["1.0.0"]
    assert [t.tag for t in other] == ["feature-x", "latest", "v1"]


def test_a_version_keeps_the_tag_as_spelt_and_what_the_registry_said():
    (version,), _ = split_tags([Tag("v3.1.4", "sha256:abc", None, 1234)])
    assert (version.version, version.tag, version.digest, version.size) == (
        "3.1.4",
        "v3.1.4",
        "sha256:abc",
        1234,
    )
    assert not version.is_prerelease


def test_build_metadata_is_not_a_pre_release():
    (version,), _ = split_tags([Tag("1.0.0+build-5")])
    assert not version.is_prerelease
