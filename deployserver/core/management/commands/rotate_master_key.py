"""``manage.py rotate_master_key``: re-encrypt every stored secret under the newest master key."""

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from deployserver.core import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value under the first key of DEPLOYSERVER_MASTER_KEY. "
        "Run it with DEPLOYSERVER_MASTER_KEY=new,old; afterwards the old key can be dropped."
    )

    def handle(self, *args, **options):
        if len(settings.MASTER_KEYS) < 2:
            self.stderr.write(
                "DEPLOYSERVER_MASTER_KEY holds one key: values are re-encrypted under it, "
                "but nothing is rotated away from an old key."
            )
        counts: dict[str, int] = {}
        # One transaction: a value that no configured key opens leaves every row as it was.
        with transaction.atomic():
            for model, field in crypto.encrypted_fields():
                label = f"{model._meta.label}.{field.name}"
                counts[label] = self._rotate(model, field, label)
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} value{'' if count == 1 else 's'} rotated")
        self.stdout.write(f"Total: {sum(counts.values())} rotated")

    def _rotate(self, model, field, label: str) -> int:
        # Raw SQL on purpose: going through the model would decrypt on load, and saving would
        # bump auto_now fields and re-validate. A rotation changes ciphertext, never data.
        qn = connection.ops.quote_name
        table, column, pk = qn(model._meta.db_table), qn(field.column), qn(model._meta.pk.column)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {column} FROM {table} WHERE {column} <> '' ORDER BY {pk}{lock}"
            )
            rows = cursor.fetchall()
            for row_pk, token in rows:
                if not token.startswith(crypto.PREFIX):
                    raise CommandError(
                        f"{label} of row {row_pk} is not an encrypted value; nothing was changed."
                    )
                try:
                    rotated = crypto.rotate(token)
                except InvalidToken:
                    raise CommandError(
                        f"{label} of row {row_pk} cannot be decrypted with any key in "
                        "DEPLOYSERVER_MASTER_KEY (list every key in use, newest first); "
                        "nothing was changed."
                    ) from None
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", [rotated, row_pk]
                )
        return len(rows)
