"""``manage.py insights_rebuild``: compute again what every deployment keeps for the insights."""

import time

from django.core.management.base import BaseCommand

from deployments.insights import insights_rebuild
from deployments.models import Deployment


class Command(BaseCommand):
    help = (
        "Compute again, from the whole history, the lead and recovery times each deployment keeps "
        "for the insights (each deployment keeps them when it ends; run this after writing "
        "deployments into the database by other means, such as an import)."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        insights_rebuild()
        self.stdout.write(
            f"Kept figures computed for {Deployment.objects.count():,} deployments in "
            f"{time.perf_counter() - started:.1f} s."
        )
