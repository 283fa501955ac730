"""The command needs no service and nothing but the standard library."""

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from deployserver_cli.client import refusal_reason, server_url
from deployserver_cli.errors import UsageError
from deployserver_cli.main import duration
from deployserver_cli.output import table_lines

from .conftest import ROOT, cli_env, run_cli

HEAVY = ("django", "rest_framework", "celery", "kombu", "boto3", "botocore", "requests")


def test_the_command_imports_neither_django_nor_boto3_nor_celery():
    """Run with ``-S`` (no site-packages: Django cannot even be found) and ``-X importtime``."""
    done = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-m", "deployserver_cli", "--help"],
        env=cli_env(), cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "exit codes:" in done.stdout
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "deployserver_cli" in imported
    assert not imported & set(HEAVY), imported & set(HEAVY)
    assert "deployserver" not in imported  # its __init__ loads the Celery app
    no_django = subprocess.run(
        [sys.executable, "-S", "-c", "import django"], env=cli_env(), capture_output=True
    )
    assert no_django.returncode != 0  # the check above ran where Django is not installed


def test_the_installed_console_script_runs():
    script = Path(sys.executable).parent / "deployserver"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: deployserver ")


def test_help_documents_the_exit_codes_and_the_configuration():
    run = run_cli("release", "create", "--help", env=cli_env())
    assert run.code == 0
    expected = [
        "DEPLOYSERVER_URL",
        "DEPLOYSERVER_API_KEY",
        "0  everything asked for succeeded",
        "1  a deployment failed",
        "2  bad usage",
        "3  --timeout",
        "4  the server",
    ]
    for text in expected:
        assert text in run.stdout


def test_usage_errors_exit_2_without_a_traceback():
    run = run_cli("release", "frobnicate", env=cli_env())
    assert run.code == 2 and "invalid choice: 'frobnicate'" in run.stderr
    run = run_cli("project", "list", "--server", "ftp://x", "--api-key", "k", env=cli_env())
    assert (run.code, run.stderr) == (
        2,
        "error: --server must be an http:// or https:// URL, not 'ftp://x'\n",
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("10m", 600), ("1h30m", 5400), ("45", 45), ("1.5s", 1.5), ("2m30s", 150)],
)
def test_durations(text, seconds):
    assert duration(text) == (seconds, text)


@pytest.mark.parametrize("text", ["", "soon", "10x", "0s", "m", "-5s"])
def test_bad_durations_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


def test_tables_fit_80_columns_cutting_the_widest_column():
    rows = [[1, "hello-color", "x" * 200, "success"], [22, "api", "short", "failed"]]
    lines = table_lines(["ID", "PROJECT", "PACKAGES", "STATE"], rows)
    assert all(len(line) <= 80 for line in lines)
    assert lines[0].split() == ["ID", "PROJECT", "PACKAGES", "STATE"]
    assert "…" in lines[1] and lines[1].rstrip().endswith("success")
    assert lines[2].split() == ["22", "api", "short", "failed"]


def test_refusal_reasons_read_the_apis_error_shapes():
    assert refusal_reason({"detail": "Not found."}, "") == "Not found."
    assert refusal_reason({"environment": ["Prod opens after Test."]}, "") == (
        "environment: Prod opens after Test."
    )
    assert refusal_reason({"non_field_errors": ["a", "b"]}, "") == "a b"
    assert refusal_reason(None, "fallback") == "fallback"


def test_server_url_takes_the_api_address_too():
    assert server_url("https://deploy.example.org/api/") == "https://deploy.example.org"
    with pytest.raises(UsageError):
        server_url("")
