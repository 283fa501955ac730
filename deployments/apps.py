from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"

    def ready(self):
        # Step types plug into the registry that releases validates processes with.
        from releases.steps import REGISTRY

        from .steps.ecs import ECS_DEPLOY

        REGISTRY.register(ECS_DEPLOY)
