"""``feed versions``, ``project list``, ``environment list``: what a pipeline may name."""

from urllib.parse import quote

from .errors import UsageError
from .output import when


def feed_id(client, feed: str) -> int:
    """A feed named by id, slug or name (the API addresses feeds by id)."""
    if feed.isdigit():
        return int(feed)
    for found in client.get_list("/api/feeds/", limit=500):
        if feed in (found.get("slug"), found.get("name")):
            return found["id"]
    raise UsageError(f"there is no feed {feed!r} (give its id, slug or name)")


def feed_versions(ctx, args) -> int:
    feed = feed_id(ctx.client, args.feed)
    params = {"pre": "1" if args.pre else "0", "limit": args.limit}
    path = f"/api/feeds/{feed}/packages/{quote(args.package, safe='/')}/versions/"
    listing = ctx.client.get(path, params)
    if ctx.printer.json:
        ctx.printer.document(listing)
        return 0
    rows = [
        [
            v.get("version"),
            v.get("tag"),
            when(v.get("pushed_at")),
            _size(v.get("size")),
            (v.get("digest") or "")[:19],
        ]
        for v in listing.get("results") or []
    ]
    ctx.printer.table(["VERSION", "TAG", "PUSHED", "SIZE", "DIGEST"], rows)
    return 0


def _size(size) -> str:
    if size is None:
        return "-"
    return f"{size / 1_000_000:.1f} MB"


def project_list(ctx, args) -> int:
    projects = ctx.client.get_list("/api/projects/", {"name": args.name}, limit=args.limit)
    if ctx.printer.json:
        ctx.printer.document(projects)
        return 0
    rows = [[p.get("slug"), p.get("name"), p.get("lifecycle")] for p in projects]
    ctx.printer.table(["SLUG", "NAME", "LIFECYCLE"], rows)
    return 0


def environment_list(ctx, args) -> int:
    environments = ctx.client.get_list("/api/environments/", limit=args.limit)
    if ctx.printer.json:
        ctx.printer.document(environments)
        return 0
    rows = [[e.get("slug"), e.get("name"), e.get("description")] for e in environments]
    ctx.printer.table(["SLUG", "NAME", "DESCRIPTION"], rows)
    return 0
