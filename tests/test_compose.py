"""docker-compose.yml and the Dockerfile, checked by reading them (Docker does not run here)."""

import re

import environ
import pytest
import yaml

from tests.conftest import ROOT

APP_SERVICES = ("web", "worker", "beat")
REQUIRED_SECRETS = ("SECRET_KEY", "DEPLOYSERVER_MASTER_KEY", "POSTGRES_PASSWORD")
VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


@pytest.fixture(scope="module")
def text() -> str:
    return (ROOT / "docker-compose.yml").read_text()


@pytest.fixture(scope="module")
def compose(text) -> dict:
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def interpolate(value: str, given: dict[str, str]) -> str:
    """What compose makes of ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``."""

    def one(match):
        name, kind, rest = match.groups()
        if given.get(name):
            return given[name]
        if kind == "?":
            raise LookupError(f"{name}: {rest}")
        return rest if kind == "-" else ""

    return VARIABLE.sub(one, value)


def command_line(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_it_runs_postgres_redis_web_worker_and_beat(services):
    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"


def test_the_app_image_is_defined_once_and_shared(text, compose, services):
    assert "x-app: &app" in text
    assert text.count("<<: *app") == len(APP_SERVICES)
    anchor = compose["x-app"]
    assert anchor["build"]["context"] == "."
    for name in APP_SERVICES:
        assert services[name]["image"] == anchor["image"]
        assert services[name]["build"] == anchor["build"]
        assert services[name]["environment"] == anchor["environment"]


def test_web_migrates_and_collects_static_files_before_gunicorn(services):
    line = " ".join(command_line(services["web"]).split())
    migrate = line.index("manage.py migrate --noinput")
    collect = line.index("manage.py collectstatic --noinput")
    gunicorn = line.index("exec gunicorn deployserver.wsgi --bind 0.0.0.0:8000")
    assert migrate < collect < gunicorn
    assert " && " in line[migrate:gunicorn]
    assert services["web"]["ports"] == ["${DEPLOYSERVER_PORT:-8000}:8000"]


def test_worker_and_beat_run_the_celery_app(services):
    assert command_line(services["worker"]).startswith("celery -A deployserver worker")
    assert command_line(services["beat"]).startswith("celery -A deployserver beat")


def test_the_app_environment_points_at_postgres_and_redis_and_requires_its_secrets(services):
    env = services["web"]["environment"]
    for name in REQUIRED_SECRETS[:2]:
        assert env[name].startswith(f"${{{name}:?"), name
    with pytest.raises(LookupError, match="SECRET_KEY"):
        interpolate(env["SECRET_KEY"], {})
    given = {name: f"sample-{name.lower()}" for name in REQUIRED_SECRETS}
    resolved = {key: interpolate(str(value), given) for key, value in env.items()}

    database = environ.Env.db_url_config(resolved["DATABASE_URL"])
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["NAME"], database["USER"]) == (
        "postgres",
        services["postgres"]["environment"]["POSTGRES_DB"],
        services["postgres"]["environment"]["POSTGRES_USER"],
    )
    assert database["PASSWORD"] == "sample-postgres_password"
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
        assert resolved[name].startswith("redis://redis:6379/"), name
    assert resolved["CACHE_URL"] != resolved["CELERY_BROKER_URL"]
    assert resolved["DEPLOYSERVER_SANDBOX"] == "0"
    assert resolved["DEBUG"] == "0"


def test_app_services_wait_for_healthy_postgres_and_redis(services):
    for name in APP_SERVICES:
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }


def test_services_have_healthchecks(services):
    def check(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"])

    assert "pg_isready" in check("postgres")
    assert "redis-cli ping" in check("redis")
    assert "http://127.0.0.1:8000/healthz" in check("web")
    assert "inspect ping" in check("worker")


def test_data_lives_in_named_volumes(compose, services):
    assert set(compose["volumes"]) == {"postgres-data", "redis-data"}
    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert services["redis"]["volumes"] == ["redis-data:/data"]


def test_env_example_names_every_required_variable(text):
    required = {m.group(1) for m in VARIABLE.finditer(text) if m.group(2) == "?"}
    assert required == set(REQUIRED_SECRETS)
    example = (ROOT / ".env.example").read_text()
    for name in required:
        assert re.search(rf"^{name}=", example, re.MULTILINE), name


def test_the_dockerfile_installs_the_project_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.split()[0] for line in dockerfile.splitlines() if line[:1].isalpha()]
    assert instructions[0] == "FROM"
    assert re.search(r"^FROM python:3\.1[1-9]", dockerfile, re.MULTILINE)
    assert "COPY . ." in dockerfile
    assert re.search(r"pip install [^\n]*-e \.", dockerfile)
    assert "USER deployserver" in dockerfile
    assert "EXPOSE 8000" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "data", ".env"} <= set(ignored)
