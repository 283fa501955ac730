"""Exit codes a pipeline can act on, and the errors that end the command with one of them."""

OK = 0
DEPLOYMENT_FAILED = 1  # a deployment failed or was cancelled
REFUSED = 2  # bad usage, or the server refused the request (4xx)
TIMED_OUT = 3  # --timeout passed before the deployments ended
UNAVAILABLE = 4  # server unreachable, 5xx, or an answer that is not the API's

EXIT_CODES_HELP = """\
exit codes:
  0  everything asked for succeeded
  1  a deployment failed or was cancelled
  2  bad usage, or the server refused the request (4xx; its reason on stderr)
  3  --timeout passed (with --cancel-on-timeout: once the cancelled deployment ended)
  4  the server is unreachable, answered 5xx or something that is not its API
     (network failures are retried with backoff for DEPLOYSERVER_RETRY_SECONDS, 60 s)"""


class CliError(Exception):
    """Ends the command: ``message`` on stderr and the process exits with ``code``."""

    code = REFUSED
    reported = False  # the message was already printed (a deployment's result line)
    deployment: dict | None = None  # the deployment it is about, as last read

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class UsageError(CliError):
    code = REFUSED


class Refused(CliError):
    """The server answered 4xx: the request is wrong and sending it again will not help."""

    code = REFUSED

    def __init__(self, status: int, reason: str, data=None):
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason
        self.data = data


class Unavailable(CliError):
    code = UNAVAILABLE


class TimedOut(CliError):
    code = TIMED_OUT


class DeploymentFailed(CliError):
    code = DEPLOYMENT_FAILED
