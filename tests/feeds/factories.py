import factory

from feeds.models import Feed


class DockerFeedFactory(factory.django.DjangoModelFactory):
    """A Docker registry feed on a port where nothing listens (no registry call expected)."""

    class Meta:
        model = Feed

    name = factory.Sequence(lambda n: f"Registry {n}")
    slug = factory.Sequence(lambda n: f"registry-{n}")
    feed_type = Feed.FeedType.DOCKER_REGISTRY
    url = "http://127.0.0.1:9"
