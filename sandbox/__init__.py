"""The local AWS sandbox: a moto server on loopback, with ECS rollouts that progress.

Used by ``make run`` (the demo, through the ``run_embedded`` command) and by end-to-end tests.
Product code never asks whether it talks to the sandbox; the sandbox behaves like AWS as far as
the deployment engine can see.

moto is optional (the ``sandbox`` extra): ``seed`` and ``rollouts`` import it, so only the
``run_embedded`` command imports them, and only when the sandbox is asked for. Nothing that
Django loads at start-up imports moto.
"""

from importlib.util import find_spec

INSTALL_HINT = (
    "The AWS sandbox needs moto, which is not installed: pip install 'deployserver[sandbox]' "
    "(or set DEPLOYSERVER_SANDBOX=0 to run without the sandbox)."
)


def moto_installed() -> bool:
    return find_spec("moto") is not None
