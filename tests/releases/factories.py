"""Factories for environments, lifecycles, phases and projects."""

import factory

from releases.channels import channel_default_create
from releases.models import Environment, Lifecycle, Phase, PhaseEnvironment, Project


class EnvironmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Environment

    name = factory.Sequence(lambda n: f"Env {n}")
    slug = factory.Sequence(lambda n: f"env-{n}")
    sort_order = factory.Sequence(lambda n: n)


class LifecycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lifecycle

    name = factory.Sequence(lambda n: f"Lifecycle {n}")
    slug = factory.Sequence(lambda n: f"lifecycle-{n}")


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    lifecycle = factory.SubFactory(LifecycleFactory)

    name = factory.Sequence(lambda n: f"Phase {n}")
    sort_order = factory.Sequence(lambda n: n)


class PhaseEnvironmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhaseEnvironment

    phase = factory.SubFactory(PhaseFactory)
    lifecycle = factory.SelfAttribute("phase.lifecycle")
    environment = factory.SubFactory(EnvironmentFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    lifecycle = factory.SubFactory(LifecycleFactory)

    @factory.post_generation
    def default_channel(self, create, extracted, **kwargs):
        """Every project has its default channel, as ``project_create`` makes it."""
        if create:
            channel_default_create(self)
