from django.db import migrations


def create_default_channels(apps, schema_editor):
    Project = apps.get_model("releases", "Project")
    Channel = apps.get_model("releases", "Channel")
    for project in Project.objects.exclude(channels__is_default=True):
        Channel.objects.create(project=project, name="Default", slug="default", is_default=True)


class Migration(migrations.Migration):
    dependencies = [("releases", "0004_releases_and_channels")]
    operations = [migrations.RunPython(create_default_channels, migrations.RunPython.noop)]
