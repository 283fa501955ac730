from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "deployserver.core"
    # The label the tables, migrations and permissions were created under.
    label = "deployserver"
    verbose_name = "Core"
