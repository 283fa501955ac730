"""``manage.py generate_master_key``: print a new Fernet key for DEPLOYSERVER_MASTER_KEY."""

from django.core.management.base import BaseCommand

from deployserver.core.crypto import generate_key


class Command(BaseCommand):
    help = (
        "Print a new master key. To rotate, put it first in DEPLOYSERVER_MASTER_KEY "
        "(new,old), run rotate_master_key, then drop the old key."
    )

    def handle(self, *args, **options):
        self.stdout.write(generate_key())
