from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"

    def ready(self):
        # Imported here, not at the top: the step types and their runners load models, which
        # Django allows only once every app is loaded.
        from . import aws_ecs

        # Step types plug into the registry that releases validates processes with, each with
        # the function that runs it.
        aws_ecs.register()
