"""REST API for feeds: CRUD, test, repositories and versions.

Package ids may contain ``/`` (``team/api``), so the package routes match the rest of the path.
Registry failures answer 502 with the upstream reason; unknown repositories 404.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from deployserver.core.models import AwsAccount
from deployserver.web.api import ServiceModelViewSet

from . import selectors, services
from .models import Feed
from .registries import RegistryError

TRUE_VALUES = {"1", "true", "yes", "on"}
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
        fields = [
            "id",
            "name",
            "slug",
            "feed_type",
            "account",
            "region",
            "registry_id",
            "url",
            "username",
            "password",
            "has_password",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)


def _flag(request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in TRUE_VALUES


def _limit(request) -> int | None:
    raw = request.query_params.get("limit")
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise exceptions.ValidationError({"limit": [f"Enter a number from 1 to {MAX_LIMIT}."]})
    return value


def _iso(value):
    return value.isoformat() if value else None


PACKAGE_ID = OpenApiParameter(
    "package_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="May contain `/`."
)


class FeedViewSet(ServiceModelViewSet):
    """Feeds. The password is write-only and never returned."""

    queryset = selectors.feed_list()
    serializer_class = FeedSerializer
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

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Authenticate against the registry and list it; 502 with the reason when it fails."""
        summary = services.feed_test(self.get_object())
        return Response({"ok": True, "detail": summary})

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Part of a repository name."),
            OpenApiParameter("refresh", bool, description="Bypass the cache."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def packages(self, request, pk=None):
        """Repositories (package ids) of the feed, sorted by name."""
        feed = self.get_object()
        names = services.feed_packages(
            feed, request.query_params.get("q", ""), refresh=_flag(request, "refresh")
        )
        return Response({"count": len(names), "results": names})

    @extend_schema(
        parameters=[
            PACKAGE_ID,
            OpenApiParameter("pre", bool, description="Include pre-releases."),
            OpenApiParameter("q", str, description="Part of a tag."),
            OpenApiParameter("limit", int, description="At most this many versions."),
            OpenApiParameter("other", bool, description="Also list tags that are not semver."),
            OpenApiParameter("refresh", bool, description="Bypass the cache."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"], url_path=r"packages/(?P<package_id>.+)/versions")
    def versions(self, request, pk=None, package_id=""):
        """Versions of one repository, newest first by SemVer precedence."""
        feed = self.get_object()
        q = request.query_params.get("q", "")
        limit = _limit(request)
        listing = services.feed_version_listing(feed, package_id, refresh=_flag(request, "refresh"))
        versions = listing.select(pre=_flag(request, "pre"), q=q, limit=limit)
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
        if _flag(request, "other"):
            data["other"] = [
                {"tag": t.tag, "digest": t.digest, "pushed_at": _iso(t.pushed_at), "size": t.size}
                for t in listing.other_tags(q=q)
            ]
        return Response(data)

    @extend_schema(
        parameters=[PACKAGE_ID, OpenApiParameter("tag", str, required=True)],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"], url_path=r"packages/(?P<package_id>.+)/digest")
    def digest(self, request, pk=None, package_id=""):
        """The digest a tag points at now, and the image references by tag and by digest."""
        feed = self.get_object()
        tag = request.query_params.get("tag", "").strip()
        if not tag:
            raise exceptions.ValidationError({"tag": ["This parameter is required."]})
        digest = services.feed_resolve_digest(feed, package_id, tag)
        return Response(
            {
                "tag": tag,
                "digest": digest,
                "image_by_tag": services.feed_image_reference(feed, package_id, tag=tag),
                "image_by_digest": services.feed_image_reference(feed, package_id, digest=digest),
            }
        )
