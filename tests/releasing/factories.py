"""Factories for channels, releases and deployments (projects and environments: tests.releases)."""

import factory
from django.utils import timezone

from deployments.models import Deployment
from releases.models import Channel, Release
from tests.releases.factories import ProjectFactory


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Channel {n}")
    slug = factory.Sequence(lambda n: f"channel-{n}")


class ReleaseFactory(factory.django.DjangoModelFactory):
    """A release row without packages; tests of lifecycles and retention need no registry."""

    class Meta:
        model = Release

    project = factory.SubFactory(ProjectFactory)
    channel = factory.LazyAttribute(
        lambda o: Channel.objects.get_or_create(
            project=o.project, slug="default", defaults={"name": "Default", "is_default": True}
        )[0]
    )
    version = factory.Sequence(lambda n: f"1.0.{n}")
    variables_snapshot_at = factory.LazyFunction(timezone.now)


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment

    release = factory.SubFactory(ReleaseFactory)
    project = factory.SelfAttribute("release.project")
    state = Deployment.State.SUCCESS
