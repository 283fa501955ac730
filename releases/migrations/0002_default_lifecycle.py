from django.db import migrations


def create_default(apps, schema_editor):
    Lifecycle = apps.get_model("releases", "Lifecycle")
    if not Lifecycle.objects.filter(is_default=True).exists():
        Lifecycle.objects.get_or_create(
            slug="default",
            defaults={
                "name": "Default Lifecycle",
                "is_default": True,
                "description": "One phase per environment, in order.",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("releases", "0001_initial")]
    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
