from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0001_deployments_and_logs"),
    ]

    operations = [
        migrations.AddField(
            model_name="deployment",
            name="enqueued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
