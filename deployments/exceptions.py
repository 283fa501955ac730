"""How a deployment's work ends other than by success, shared by the services, the engine and
the step runners (so none of them imports another only for its exceptions)."""


class DeploymentConflict(Exception):
    """The same release is already queued or executing in that environment (HTTP 409)."""


class DeploymentCancelled(Exception):
    """Someone asked to cancel; raised at the engine's next check."""


class DeploymentLost(Exception):
    """The deployment is no longer ours (the reaper ended it while we were slow)."""


class StepFailed(Exception):
    """A step ended without success; ``str()`` is the reason shown on the deployment."""
