"""Schema-driven fuzzing of the whole API against the live test server (schemathesis).

The schema is read from ``/api/schema/`` of the running server with a real API key of an admin
user; every operation (reads and writes) gets cases that fit the schema and cases that do not,
derandomized (the same cases every run). For each answer: no 5xx, the status is one the
operation documents, the body matches the documented schema and content type.

Some cases use the seeded objects (an environment set, a project with a process on an ECR feed of
the moto server, a release and a deployment) for path parameters, so writes and reads reach real
rows and not only 404s. Deletes run last so they do not empty the data the others read.

``test_api_fuzz`` runs a few hundred cases; ``test_api_fuzz_more`` (marker ``fuzz``) more.
"""

from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deployserver.core.models import AwsAccount
from deployserver.core.services import api_key_create
from feeds.models import Feed
from releases.models import Lifecycle
from tests.factories import DeploymentFactory, ReleaseFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


@dataclass
class FuzzRun:
    cases: int = 0
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)


@pytest.fixture
def seeded(live_server, admin_user, project, dev_test_prod):
    """The running server's URL, an admin API key and the ids of a few seeded objects."""
    release = ReleaseFactory(project=project)
    deployment = DeploymentFactory(
        release=release, environment=dev_test_prod["dev"], state="success"
    )
    _, key = api_key_create(user=admin_user, name="fuzz")
    ids = {
        "accounts": AwsAccount.objects.get().pk,
        "audit": None,
        "deployments": deployment.pk,
        "environments": dev_test_prod["dev"].pk,
        "feeds": Feed.objects.get().pk,
        "lifecycles": Lifecycle.objects.get(slug="standard").pk,
        "releases": release.pk,
    }
    return {
        "url": live_server.url,
        "headers": {"Authorization": f"Token {key}"},
        "ids": ids,
        "slugs": {"slug": project.slug, "channel_slug": "default", "package_id": "hello-color"},
    }


def seeded_path(operation, seeded) -> dict | None:
    """Path parameters naming seeded objects, or None when the path names none we have."""
    names = [p.name for p in operation.path_parameters]
    if not names:
        return None
    values = {}
    for name in names:
        if name == "id":
            resource = operation.path.split("/")[2]
            value = seeded["ids"].get(resource)
        else:
            value = seeded["slugs"].get(name)
        if value is None:
            return None
        values[name] = value
    return values


def fuzz_operation(operation, seeded, run: FuzzRun, examples: int) -> None:
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    path = seeded_path(operation, seeded)
    if path:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path))
    strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def check(case):
        run.cases += 1
        response = case.call(base_url=seeded["url"], headers=seeded["headers"], timeout=30)
        run.statuses[response.status_code] += 1
        if response.status_code >= 500:
            run.server_errors += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=seeded["headers"])
        except FailureGroup as exc:  # a BaseExceptionGroup, which Hypothesis would not catch
            raise AssertionError(str(exc)) from None

    try:
        check()
    except Exception as exc:  # one report per operation; the run goes on with the others
        run.failures.append(f"{operation.label}: {exc}")


def fuzz(seeded, examples: int) -> FuzzRun:
    schema = schemathesis.openapi.from_url(
        f"{seeded['url']}/api/schema/?format=json", headers=seeded["headers"]
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: (METHOD_ORDER.get(op.method.upper(), 9), op.path))
    run = FuzzRun()
    for operation in operations:
        fuzz_operation(operation, seeded, run, examples)
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(run.statuses.items()))
    print(
        f"\nAPI fuzz: {len(operations)} operations, {run.cases} cases, "
        f"{run.server_errors} 5xx, {len(run.failures)} failing operations ({statuses})"
    )
    return run


def assert_clean(run: FuzzRun) -> None:
    assert run.server_errors == 0 and not run.failures, "\n\n".join(run.failures)


def test_api_fuzz(seeded):
    run = fuzz(seeded, examples=6)
    assert run.cases >= 300
    assert_clean(run)


@pytest.mark.fuzz
def test_api_fuzz_more(seeded):
    assert_clean(fuzz(seeded, examples=12))
