"""The factories of every app's models, and builders of the data the services take.

Rows are written directly: tests of rules call the services. One module for the whole suite, in
the order of the apps: core (users, AWS accounts), feeds, releases (environments, lifecycles,
projects, channels, releases, variables, process steps), deployments.
"""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from deployments.insights import insights_record
from deployments.models import Deployment
from deployserver.core.models import AwsAccount
from feeds.models import Feed
from releases.channels import channel_default_create
from releases.models import (
    Channel,
    Environment,
    Lifecycle,
    Phase,
    PhaseEnvironment,
    Project,
    Release,
    Variable,
    VariableScope,
)

SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"


# Core ------------------------------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "user-pass-1")


class AwsAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AwsAccount

    name = factory.Sequence(lambda n: f"Account {n}")
    slug = factory.Sequence(lambda n: f"account-{n}")
    access_key_id = factory.Sequence(lambda n: f"AKIAEXAMPLE{n:09d}")
    secret_access_key = SECRET_ACCESS_KEY
    region = "eu-west-1"


# Feeds -----------------------------------------------------------------------------------------


class DockerFeedFactory(factory.django.DjangoModelFactory):
    """A Docker registry feed on a port where nothing listens (no registry call expected)."""

    class Meta:
        model = Feed

    name = factory.Sequence(lambda n: f"Registry {n}")
    slug = factory.Sequence(lambda n: f"registry-{n}")
    feed_type = Feed.FeedType.DOCKER_REGISTRY
    url = "http://127.0.0.1:9"


# Releases: environments, lifecycles, projects --------------------------------------------------


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


def make_lifecycle(name: str, phases: list[dict]):
    """``phases``: dicts of name, envs, and optionally automatic, optional, minimum."""
    lifecycle = LifecycleFactory(name=name, slug=name.lower().replace(" ", "-"))
    for order, spec in enumerate(phases):
        phase = PhaseFactory(
            lifecycle=lifecycle,
            name=spec["name"],
            sort_order=order,
            is_optional=spec.get("optional", False),
            minimum_environments=spec.get("minimum", 0),
        )
        for env in spec["envs"]:
            PhaseEnvironmentFactory(
                phase=phase, environment=env, automatic=env in spec.get("automatic", ())
            )
    return lifecycle


def make_dev_test_prod() -> dict:
    """Environments Dev, Test and Prod, in that order, by slug."""
    return {
        slug: EnvironmentFactory(name=slug.title(), slug=slug, sort_order=i)
        for i, slug in enumerate(("dev", "test", "prod"))
    }


def make_standard_lifecycle(environments: dict):
    """Dev, then Test, then Prod: one required phase each."""
    return make_lifecycle(
        "Standard", [{"name": e.name, "envs": [e]} for e in environments.values()]
    )


# Releases: channels, releases ------------------------------------------------------------------


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


# Releases: variables and the deployment process ------------------------------------------------


class VariableFactory(factory.django.DjangoModelFactory):
    """A project variable; scopes are set with ``environments=[...]``."""

    class Meta:
        model = Variable
        skip_postgeneration_save = True  # scopes are rows of their own; the variable is saved

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Var{n}")
    type = Variable.Type.TEXT
    value = "value"
    sort_order = factory.Sequence(lambda n: n)

    @factory.post_generation
    def environments(self, create, extracted, **kwargs):
        for env in extracted or ():
            VariableScope.objects.create(variable=self, environment=env)


def ecs_properties(**overrides) -> dict:
    """The properties of the ECS example's step, every difference between environments a
    variable (``#{Color}``, ``#{ClusterName}`` …)."""
    properties = {
        "aws_account": "#{AwsAccount}",
        "region": "us-east-1",
        "cluster": "#{ClusterName}",
        "service": "#{ServiceName}",
        "task_family": "#{TaskName}",
        "requires_compatibilities": "FARGATE",
        "network_mode": "awsvpc",
        "task_cpu": "256",
        "task_memory": "512",
        "execution_role_arn": EXECUTION_ROLE,
        "task_role_arn": EXECUTION_ROLE,
        "containers": [
            {
                "name": "web",
                "image": "#{Package[web].Image}",
                "memory": 256,
                "port_mappings": [{"container_port": 80, "host_port": 80, "protocol": "tcp"}],
                "environment": [
                    {"name": "OCTO_COLOR", "value": "#{Color}"},
                    {"name": "OCTO_MSG", "value": "#{Message}"},
                    {"name": "DB_PASSWORD", "value": "#{DbPassword}"},
                    {"name": "DB_PASSWORD_B64", "value": "#{DbPassword | ToBase64}"},
                ],
            }
        ],
        "desired_count": 2,
        "minimum_healthy_percent": 100,
        "maximum_percent": 200,
        "force_new_deployment": True,
    }
    properties.update(overrides)
    return properties


def ecs_step(feed, **overrides) -> dict:
    """One ECS step deploying package reference ``web`` (hello-color from ``feed``)."""
    return {
        "name": "Deploy web",
        "type": "aws-ecs-deploy",
        "packages": [{"name": "web", "feed": feed.pk, "package_id": "hello-color"}],
        "properties": ecs_properties(**overrides),
    }


# Deployments -----------------------------------------------------------------------------------


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment
        skip_postgeneration_save = True

    release = factory.SubFactory(ReleaseFactory)
    project = factory.SelfAttribute("release.project")
    state = Deployment.State.SUCCESS

    @factory.post_generation
    def kept_figures(deployment, create, extracted, **kwargs):
        """A finished one keeps what the insights keep, as when a deployment ends."""
        if create:
            insights_record(deployment)


def release_at(project, version: str, created_at, **fields):
    """A release created at a fixed time (``created_at`` is set by the database otherwise)."""
    release = ReleaseFactory(project=project, version=version, **fields)
    Release.objects.filter(pk=release.pk).update(created_at=created_at)
    release.created_at = created_at
    return release


def deployed_at(release, environment, state, finished_at, *, error: str = "", **fields):
    """A finished deployment of ``release`` that started a minute before ``finished_at``."""
    deployment = DeploymentFactory(
        release=release,
        environment=environment,
        state=state,
        started_at=finished_at - timedelta(minutes=1),
        finished_at=finished_at,
        error=error,
        **fields,
    )
    Deployment.objects.filter(pk=deployment.pk).update(
        created_at=finished_at - timedelta(minutes=2)
    )
    return deployment
