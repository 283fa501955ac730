"""``manage.py create_api_key USERNAME``: make an API key and print it as the last line."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from deployserver.core.services import api_key_create
from releases.models import Environment, Project
from releases.teams import GrantSpec, api_key_narrow


class Command(BaseCommand):
    help = "Create an API key for a user. The key is printed once, as the last line of output."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the key is for (default: cli).")
        parser.add_argument(
            "--grant",
            action="append",
            default=[],
            metavar="ROLE:PROJECTS:ENVIRONMENTS",
            help="Narrow the key (repeatable): e.g. deployer:hello-color:dev; comma-separated "
            "slugs, empty for all. The key never does more than its user may.",
        )
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="The key stops working after this many days (default: never).",
        )

    def handle(self, *args, username, name, expires_in_days, grant, **options):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"There is no user called {username!r}.") from None
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be 1 or more.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            api_key, key = api_key_create(user=user, name=name or "cli", expires_at=expires_at)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if grant:
            try:
                api_key_narrow(api_key=api_key, user=user, grants=[_grant(g) for g in grant])
            except ValidationError as exc:
                api_key.delete()
                raise CommandError("; ".join(exc.messages)) from exc
        expiry = f"expires {api_key.expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "no expiry"
        self.stderr.write(
            f"API key {api_key.name!r} for {username} ({expiry}). "
            "It is shown only now; send it as `Authorization: Token <key>`."
        )
        # The key goes last on stdout so scripts can take it with `tail -n 1`.
        self.stdout.write(key)


def _grant(text: str) -> GrantSpec:
    """``ROLE:PROJECTS:ENVIRONMENTS`` (comma-separated slugs; empty for all) as a grant."""
    role, _, rest = text.partition(":")
    projects, _, environments = rest.partition(":")

    def pick(model, slugs: str, what: str):
        wanted = [s for s in slugs.split(",") if s]
        found = list(model.objects.filter(slug__in=wanted))
        missing = set(wanted) - {o.slug for o in found}
        if missing:
            raise CommandError(f"No {what} {', '.join(sorted(missing))}.")
        return tuple(found)

    return GrantSpec(
        role=role,
        projects=pick(Project, projects, "project"),
        environments=pick(Environment, environments, "environment"),
    )
