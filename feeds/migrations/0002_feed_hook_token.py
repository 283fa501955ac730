import hashlib
import secrets

from django.db import migrations, models

import deployserver.core.crypto


def give_existing_feeds_a_hook_token(apps, schema_editor):
    """Every feed has a push hook URL; the field encrypts the token as it saves it."""
    Feed = apps.get_model("feeds", "Feed")
    for feed in Feed.objects.filter(hook_token_hash=""):
        token = secrets.token_urlsafe(32)
        feed.hook_token = token
        feed.hook_token_hash = hashlib.sha256(token.encode()).hexdigest()
        feed.save(update_fields=["hook_token", "hook_token_hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0001_feed"),
    ]

    operations = [
        migrations.AddField(
            model_name="feed",
            name="hook_token",
            field=deployserver.core.crypto.EncryptedTextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="feed",
            name="hook_token_hash",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.RunPython(give_existing_feeds_a_hook_token, migrations.RunPython.noop),
    ]
