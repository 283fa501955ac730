from django.apps import AppConfig


class DeployserverConfig(AppConfig):
    name = "deployserver"
    verbose_name = "Core"
