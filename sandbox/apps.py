from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The local AWS sandbox and the ``run_embedded`` command (no models, no moto at start-up)."""

    name = "sandbox"
