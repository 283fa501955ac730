"""Channels: version ranges and pre-release patterns per package reference, lifecycle override."""

import html

import pytest
from django.core.exceptions import ValidationError

from releases.channels import channel_check, channel_create, channel_delete, channel_update
from releases.models import Channel, Release
from releases.releasing import release_create
from tests.factories import ChannelFactory, ReleaseFactory

pytestmark = pytest.mark.django_db

RULE_CASES = [
    ({"version_range": ">=1.0.0 <2.0.0"}, "1.9.9", True),
    ({"version_range": ">=1.0.0 <2.0.0"}, "2.0.0", False),
    ({"version_range": ">=1.0.0 <2.0.0"}, "0.9.0", False),
    ({"version_range": ">=1.0.0, <2.0.0"}, "1.0.0", True),
    ({"version_range": "=1.2.3"}, "1.2.3", True),
    ({"version_range": "1.2.3"}, "1.2.4", False),
    ({"prerelease": "^$"}, "1.2.3", True),
    ({"prerelease": "^$"}, "1.2.3-rc.1", False),
    ({"prerelease": "^rc"}, "1.2.3-rc.1", True),
    ({"prerelease": "^rc"}, "1.2.3-beta.1", False),
    ({"prerelease": "^rc"}, "1.2.3", False),
    ({"version_range": ">=2.0.0-0", "prerelease": "^(rc|$)"}, "2.1.0-rc.1", True),
    # The range forms people write (npm style); ranges compare by semver precedence alone.
    ({"version_range": "^1.2"}, "1.2.0", True),
    ({"version_range": "^1.2"}, "1.99.0", True),
    ({"version_range": "^1.2"}, "1.1.9", False),
    ({"version_range": "^1.2"}, "2.0.0", False),
    ({"version_range": "^0.2.3"}, "0.2.9", True),
    ({"version_range": "^0.2.3"}, "0.3.0", False),
    ({"version_range": "~1.2.3"}, "1.2.9", True),
    ({"version_range": "~1.2.3"}, "1.2.2", False),
    ({"version_range": "~1.2.3"}, "1.3.0", False),
    ({"version_range": "1.x"}, "1.0.0", True),
    ({"version_range": "1.x"}, "1.10.3", True),
    ({"version_range": "1.x"}, "2.0.0", False),
    ({"version_range": "1.2.*"}, "1.2.7", True),
    ({"version_range": "1.2.3 - 1.4.0"}, "1.4.0", True),
    ({"version_range": "1.2.3 - 1.4.0"}, "1.4.1", False),
    ({"version_range": "^1.2 || >=3.0.0"}, "1.5.0", True),
    ({"version_range": "^1.2 || >=3.0.0"}, "2.5.0", False),
    ({"version_range": "^1.2 || >=3.0.0"}, "3.1.0", True),
    ({"version_range": "1.2.3 || 1.2.5"}, "1.2.5", True),
    ({"version_range": "1.2.3 || 1.2.5"}, "1.2.4", False),
    ({"version_range": "v1.2.3"}, "1.2.3", True),
    ({"version_range": "==1.2.3"}, "1.2.3", True),
    ({"version_range": "==1.2.3"}, "1.2.4", False),
    # A pre-release inside the range is the pre-release pattern's call, as before.
    ({"version_range": "^1.2"}, "1.3.0-rc.1", True),
    ({"version_range": "^1.2", "prerelease": "^$"}, "1.3.0-rc.1", False),
    ({"version_range": "^1.2", "prerelease": "^rc"}, "1.3.0-rc.1", True),
    ({"version_range": "~1.2.3", "prerelease": "^rc"}, "1.2.4-beta.1", False),
    ({"version_range": ">=1.0.0 <2.0.0", "prerelease": "^rc"}, "2.0.0-rc.1", True),
]


@pytest.mark.parametrize("rule, version, allowed", RULE_CASES)
def test_channel_rule(rule, version, allowed):
    channel = Channel(name="C", rules=[{"packages": ["web"], **rule}])
    assert (channel_check(channel, "web", version) is None) is allowed


def test_a_rule_applies_only_to_the_packages_it_names_or_to_all_when_it_names_none():
    named = Channel(name="C", rules=[{"packages": ["api"], "version_range": "<1.0.0"}])
    everything = Channel(name="C", rules=[{"packages": [], "version_range": "<1.0.0"}])
    assert channel_check(named, "web", "5.0.0") is None
    assert channel_check(everything, "web", "5.0.0") is not None


@pytest.mark.parametrize(
    "rules, message",
    [
        (
            [{"version_range": ">=one"}],
            "Rule 1: '>=one' is not a version comparison or range (use >=1.0.0 <2.0.0, ^1.2, "
            "~1.2.3, 1.x or 1.2.3; join alternatives with ||).",
        ),
        ([{"prerelease": "("}], "Rule 1: the pre-release pattern is not a valid regex"),
        ([{"packages": ["web"]}], "Rule 1: give a version range, a pre-release pattern or both."),
        ([{"version_range": "<2.0.0", "colour": "red"}], "Rule 1: only packages, prerelease"),
        ("not a list", "Rules are a list of objects."),
    ],
)
def test_bad_rules_are_refused_with_the_reason(bare_project, admin_user, rules, message):
    with pytest.raises(ValidationError) as refused:
        channel_create(project=bare_project, user=admin_user, name="Broken", rules=rules)
    assert any(m.startswith(message) for m in refused.value.message_dict["rules"])
    assert not Channel.objects.filter(name="Broken").exists()


@pytest.mark.parametrize(
    "version_range",
    [
        "about 1",
        "latest",
        ">=",
        "!=1.2.3",
        "1.2.3.4",
        "1.2.3 ||",
        "|| ^1.2",
        "1.2.3 | 1.2.4",
        "01.2.3",
    ],
)
def test_anything_but_a_version_range_is_refused(bare_project, admin_user, version_range):
    with pytest.raises(ValidationError) as refused:
        channel_create(
            project=bare_project,
            user=admin_user,
            name="Broken",
            rules=[{"version_range": version_range}],
        )
    assert refused.value.message_dict["rules"] == [
        f"Rule 1: '{version_range}' is not a version comparison or range (use >=1.0.0 <2.0.0, "
        "^1.2, ~1.2.3, 1.x or 1.2.3; join alternatives with ||)."
    ]


@pytest.mark.parametrize(
    "version_range",
    [">=1.0.0 <2.0.0", ">=1.0.0, <2.0.0", "^1.2", "~1.2.3", "1.x", "^1 || ^3", "1.2.3"],
)
def test_every_range_form_is_accepted_and_stored_as_typed(bare_project, admin_user, version_range):
    channel = channel_create(
        project=bare_project, user=admin_user, name="C", rules=[{"version_range": version_range}]
    )
    assert channel.rules[0]["version_range"] == version_range


def test_the_page_and_the_api_refuse_a_bad_range_with_the_same_message(
    admin_api, client, admin_user, bare_project
):
    channel_create(project=bare_project, user=admin_user, name="Hotfix")
    message = (
        "Rule 1: 'about 1' is not a version comparison or range (use >=1.0.0 <2.0.0, "
        "^1.2, ~1.2.3, 1.x or 1.2.3; join alternatives with ||)."
    )
    api = admin_api.patch(
        "/api/projects/bare/channels/hotfix/",
        {"rules": [{"version_range": "about 1"}]},
        format="json",
    )
    assert api.status_code == 400
    assert api.json()["rules"] == [message]
    client.force_login(admin_user)
    page = client.post(
        "/projects/bare/channels/hotfix/edit/",
        {
            "name": "Hotfix",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-0-version_range": "about 1",
        },
    )
    assert page.status_code == 400
    assert message in html.unescape(page.content.decode())


def test_a_release_breaking_its_channel_rule_is_refused_naming_the_rule(
    admin_api, project, admin_user
):
    channel_create(
        project=project,
        user=admin_user,
        name="Stable 1.x",
        rules=[{"packages": ["web"], "version_range": ">=1.0.0 <2.0.0", "prerelease": "^$"}],
    )
    response = admin_api.post(
        "/api/projects/hello-color/releases/",
        {"channel": "stable-1x", "packages": {"web": "2.0.0"}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["packages"] == [
        "web 2.0.0: Channel Stable 1.x allows web only with version range >=1.0.0 <2.0.0 "
        "and pre-release pattern ^$."
    ]
    assert not Release.objects.exists()


def test_without_a_version_the_newest_the_channel_allows_is_taken(admin_api, project, admin_user):
    channel_create(
        project=project,
        user=admin_user,
        name="Stable 1.x",
        rules=[{"packages": ["web"], "version_range": ">=1.0.0 <2.0.0"}],
    )
    response = admin_api.post(
        "/api/projects/hello-color/releases/", {"channel": "stable-1x"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["packages"]["web"]["version"] == "1.2.0"
    assert response.json()["channel"] == "stable-1x"


def test_a_channel_allowing_no_version_of_the_feed_refuses_the_release(project, admin_user):
    channel = channel_create(
        project=project, user=admin_user, name="Far future", rules=[{"version_range": ">=9.0.0"}]
    )
    with pytest.raises(ValidationError) as refused:
        release_create(project=project, user=admin_user, channel=channel)
    assert refused.value.message_dict["packages"] == [
        "web: ECR/hello-color has no version that channel Far future allows."
    ]


def test_the_channels_api_creates_and_edits_a_channel(admin_api, bare_project, standard_lifecycle):
    url = "/api/projects/bare/channels/"
    response = admin_api.post(
        url,
        {
            "name": "Hotfix",
            "lifecycle": standard_lifecycle.slug,
            "rules": [{"packages": [], "version_range": ">=1.0.0"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["slug"] == "hotfix"
    response = admin_api.patch(url + "hotfix/", {"rules": [{"prerelease": "^$"}]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["rules"] == [{"packages": [], "version_range": "", "prerelease": "^$"}]
    bad = admin_api.patch(url + "hotfix/", {"rules": [{"version_range": "~one"}]}, format="json")
    assert bad.status_code == 400
    assert "'~one' is not a version comparison or range" in bad.json()["rules"][0]


def test_the_default_channel_and_a_channel_with_releases_cannot_be_deleted(
    bare_project, admin_user
):
    release = ReleaseFactory(project=bare_project)
    with pytest.raises(ValidationError, match="default channel"):
        channel_delete(channel=release.channel, user=admin_user)
    other = ChannelFactory(project=bare_project, name="Other")
    ReleaseFactory(project=bare_project, channel=other)
    with pytest.raises(ValidationError, match="Channel Other has releases"):
        channel_delete(channel=other, user=admin_user)
    channel_update(channel=other, user=admin_user, description="kept")
