"""moto is optional (the ``sandbox`` extra): nothing Django loads at start-up imports it, and the
embedded server asked for the sandbox without it says how to install it."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import ROOT

STARTUP = """
import sys, django
django.setup()
import deployserver.urls, deployserver.wsgi, deployments.tasks
from django.core.management import load_command_class
load_command_class("sandbox", "run_embedded")
loaded = sorted(m for m in sys.modules if m == "moto" or m.startswith("moto."))
print(",".join(loaded) or "none")
"""


def test_django_start_up_imports_no_moto():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "deployserver.settings"}
    result = subprocess.run(
        [sys.executable, "-c", STARTUP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"


def test_the_sandbox_without_moto_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "moto", None)  # as if moto were not installed
    with pytest.raises(CommandError, match=r"pip install 'deployserver\[sandbox\]'"):
        call_command("run_embedded", no_sandbox=False)
