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

        # SQLite (the embedded default) has no PERCENTILE_CONT: the insights give it one.
        from django.db.backends.signals import connection_created

        from .insights import sqlite_register

        connection_created.connect(sqlite_register, dispatch_uid="deployments-percentile")
