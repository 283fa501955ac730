"""REST API for feeds: CRUD, test, repositories and versions.

Package ids may contain ``/`` (``team/api``), so the package routes match the rest of the path.
Registry failures answer 502 with the upstream reason; unknown repositories 404.
"""

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from deployserver.core.models import AwsAccount
from deployserver.web.api import CheckResultSerializer, ServiceModelViewSet
from deployserver.web.params import FlagField, query_params
from deployserver.web.roles import AdminWrites
from deployserver.web.schema import UPSTREAM_ERROR

from . import selectors, services
from .models import Feed
from .registries import RegistryError

MAX_LIMIT = 10_000


class RegistryApiError(exceptions.APIException):
    """A ``RegistryError`` as an API answer: its status (404 or 502) and message."""

    def __init__(self, error: RegistryError):
        self.status_code = error.status
        code = "not_found" if error.status == 404 else "registry_error"
        super().__init__(detail=str(error), code=code)


class FeedSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text="Write-only. Leave out (or blank) on update to keep the stored password; "
        "changing url or username clears it unless the same request sends it again.",
    )
    has_password = serializers.SerializerMethodField()
    slug = serializers.SlugField(required=False, max_length=100)
    account = serializers.PrimaryKeyRelatedField(
        queryset=AwsAccount.objects.all(),
        required=False,
        allow_null=True,
        help_text="AWS account id (AWS ECR feeds only).",
    )

    class Meta:
        model = Feed
        fields = ["id", *services.FEED_FIELDS, "has_password", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)


class FeedFilter(filters.FilterSet):
    q = filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the name."
    )
    feed_type = filters.ChoiceFilter(choices=Feed.FeedType.choices, help_text="Only this type.")

    class Meta:
        model = Feed
        fields = ["q", "feed_type"]


class PackagesQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text="Part of a repository name.",
    )
    refresh = FlagField(help_text="Bypass the cache.")


class VersionsQuerySerializer(serializers.Serializer):
    pre = FlagField(help_text="Include pre-releases.")
    q = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text="Part of a tag.",
    )
    limit = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text="At most this many versions.",
    )
    other = FlagField(help_text="Also list tags that are not semver.")
    refresh = FlagField(help_text="Bypass the cache.")


class DigestQuerySerializer(serializers.Serializer):
    tag = serializers.CharField(help_text="The tag to resolve.")


class PackageListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = serializers.ListField(child=serializers.CharField(), help_text="Package ids.")


class VersionSerializer(serializers.Serializer):
    version = serializers.CharField()
    tag = serializers.CharField()
    digest = serializers.CharField(allow_null=True)
    pushed_at = serializers.DateTimeField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)
    prerelease = serializers.BooleanField()


class OtherTagSerializer(serializers.Serializer):
    tag = serializers.CharField()
    digest = serializers.CharField(allow_null=True)
    pushed_at = serializers.DateTimeField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)


class VersionListSerializer(serializers.Serializer):
    feed = serializers.IntegerField()
    package_id = serializers.CharField()
    repository = serializers.CharField(help_text="The image repository, without a tag.")
    fetched_at = serializers.DateTimeField(allow_null=True)
    cached = serializers.BooleanField(help_text="Whether the listing came from the cache.")
    count = serializers.IntegerField()
    results = VersionSerializer(many=True)
    other = OtherTagSerializer(
        many=True, required=False, help_text="Tags that are not semver (with ``?other=1``)."
    )


class DigestSerializer(serializers.Serializer):
    tag = serializers.CharField()
    digest = serializers.CharField()
    image_by_tag = serializers.CharField()
    image_by_digest = serializers.CharField()


def _iso(value):
    return value.isoformat() if value else None


PACKAGE_ID = OpenApiParameter(
    "package_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="May contain `/`."
)


class FeedViewSet(ServiceModelViewSet):
    """Feeds. The password is write-only and never returned."""

    queryset = selectors.feed_list()
    permission_classes = [AdminWrites]
    serializer_class = FeedSerializer
    filterset_class = FeedFilter
    instance_kwarg = "feed"
    create_service = staticmethod(services.feed_create)
    update_service = staticmethod(services.feed_update)
    delete_service = staticmethod(services.feed_delete)

    def get_object(self):
        feed = selectors.feed_get(self.kwargs["pk"])
        self.check_object_permissions(self.request, feed)
        return feed

    def handle_exception(self, exc):
        if isinstance(exc, RegistryError):
            exc = RegistryApiError(exc)
        return super().handle_exception(exc)

    @extend_schema(request=None, responses={200: CheckResultSerializer, 502: UPSTREAM_ERROR})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Authenticate against the registry and list it; 502 with the reason when it fails."""
        summary = services.feed_test(self.get_object())
        return Response({"ok": True, "detail": summary})

    @extend_schema(
        parameters=[PackagesQuerySerializer],
        responses={200: PackageListSerializer, 502: UPSTREAM_ERROR},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def packages(self, request, pk=None):
        """Repositories (package ids) of the feed, sorted by name."""
        feed = self.get_object()
        params = query_params(PackagesQuerySerializer, request)
        names = services.feed_packages(feed, params["q"], refresh=params["refresh"])
        return Response({"count": len(names), "results": names})

    @extend_schema(
        parameters=[PACKAGE_ID, VersionsQuerySerializer],
        responses={200: VersionListSerializer, 502: UPSTREAM_ERROR},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"packages/(?P<package_id>.+)/versions",
        pagination_class=None,
        filterset_class=None,
    )
    def versions(self, request, pk=None, package_id=""):
        """Versions of one repository, newest first by SemVer precedence."""
        feed = self.get_object()
        params = query_params(VersionsQuerySerializer, request)
        q = params["q"]
        listing = services.feed_version_listing(feed, package_id, refresh=params["refresh"])
        versions = listing.select(pre=params["pre"], q=q, limit=params["limit"])
        data = {
            "feed": feed.pk,
            "package_id": package_id,
            "repository": services.feed_repository_reference(feed, package_id),
            "fetched_at": _iso(listing.fetched_at),
            "cached": listing.from_cache,
            "count": len(versions),
            "results": [
                {
                    "version": v.version,
                    "tag": v.tag,
                    "digest": v.digest,
                    "pushed_at": _iso(v.pushed_at),
                    "size": v.size,
                    "prerelease": v.is_prerelease,
                }
                for v in versions
            ],
        }
        if params["other"]:
            data["other"] = [
                {"tag": t.tag, "digest": t.digest, "pushed_at": _iso(t.pushed_at), "size": t.size}
                for t in listing.other_tags(q=q)
            ]
        return Response(data)

    @extend_schema(
        parameters=[PACKAGE_ID, DigestQuerySerializer],
        responses={200: DigestSerializer, 502: UPSTREAM_ERROR},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"packages/(?P<package_id>.+)/digest",
        pagination_class=None,
        filterset_class=None,
    )
    def digest(self, request, pk=None, package_id=""):
        """The digest a tag points at now, and the image references by tag and by digest."""
        feed = self.get_object()
        tag = query_params(DigestQuerySerializer, request)["tag"]
        digest = services.feed_resolve_digest(feed, package_id, tag)
        return Response(
            {
                "tag": tag,
                "digest": digest,
                "image_by_tag": services.feed_image_reference(feed, package_id, tag=tag),
                "image_by_digest": services.feed_image_reference(feed, package_id, digest=digest),
            }
        )
