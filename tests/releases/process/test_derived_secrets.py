"""Any value computed from a sensitive variable is itself sensitive: for every filter, for a
variable built from a secret, and for nesting, the computed text appears in no preview (API or
page) and is in the mask set of every deployment of the release."""

import pytest

from deployments.engine import DeploymentRun
from deployments.models import Deployment
from releases.models import Environment
from releases.process import process_update
from releases.releasing import release_create
from releases.substitution import FILTERS, substitute
from releases.variables import VariableInput, variable_set_replace
from tests.factories import ecs_step
from tests.scenarios import SECRET

pytestmark = pytest.mark.django_db

# One expression per filter (with arguments where it takes them), over the secret.
FILTER_EXPRESSIONS = {
    "tolower": "ToLower",
    "toupper": "ToUpper",
    "trim": "Trim",
    "replace": 'Replace "/" "_"',
    "jsonescape": "JsonEscape",
    "tobase64": "ToBase64",
    "htmlescape": "HtmlEscape",
    "uriescape": "UriEscape",
    "truncate": "Truncate 9",
}
EXPRESSIONS = [f"#{{DbPassword | {f}}}" for f in FILTER_EXPRESSIONS.values()] + [
    '#{DbPassword | Replace "p@" "" | Truncate 12 | ToUpper}',  # chained
    "#{Derived}",  # a plain variable whose value is computed from the secret
    "#{DerivedTwice | ToLower}",  # … from a variable computed from the secret
]


def test_every_filter_is_covered():
    assert set(FILTER_EXPRESSIONS) == set(FILTERS)


def computed(expression: str) -> str:
    return substitute(
        expression,
        {
            "DbPassword": SECRET,
            "Derived": "#{DbPassword | Truncate 10}-x",
            "DerivedTwice": "pre-#{Derived}",
        },
    )


@pytest.fixture
def derived_project(hello_project, admin_user, ecs_example_feed, aws_account):
    variable_set_replace(
        project=hello_project,
        user=admin_user,
        rows=[
            VariableInput("Color", "red"),
            VariableInput("Message", "Hello #{Environment.Name}"),
            VariableInput("TaskName", "hello"),
            VariableInput("ClusterName", "cluster"),
            VariableInput("ServiceName", "hello-svc"),
            VariableInput("AwsAccount", aws_account.slug, type="aws-account"),
            VariableInput("DbPassword", SECRET, type="sensitive"),
            VariableInput("Derived", "#{DbPassword | Truncate 10}-x"),
            VariableInput("DerivedTwice", "pre-#{Derived}"),
        ],
    )
    environment = [
        {"name": f"DERIVED_{index}", "value": expression}
        for index, expression in enumerate(EXPRESSIONS)
    ]
    step = ecs_step(ecs_example_feed)
    step["properties"]["containers"][0]["environment"] += environment
    process_update(project=hello_project, steps=[step], user=admin_user)
    return hello_project


def assert_no_derived_text(body: str, where: str):
    for expression in EXPRESSIONS:
        text = computed(expression)
        assert text not in body, f"{where} shows {expression} in clear"


def test_no_preview_shows_a_value_computed_from_a_secret(
    admin_api, client, admin_user, derived_project
):
    client.force_login(admin_user)
    for slug in ("dev", "prod"):
        api = admin_api.get(f"/api/projects/hello-color/process/preview/?environment={slug}")
        assert api.status_code == 200, api.json()
        assert "DERIVED_0" in api.content.decode()
        assert_no_derived_text(api.content.decode(), f"the preview API for {slug}")
        page = client.get(f"/projects/hello-color/process/preview/?environment={slug}")
        assert page.status_code == 200
        assert_no_derived_text(page.content.decode(), f"the preview page for {slug}")


def test_a_deployment_masks_every_value_computed_from_a_secret(derived_project, admin_user):
    release = release_create(project=derived_project, user=admin_user)
    deployment = Deployment.objects.create(
        release=release,
        project=derived_project,
        environment=Environment.objects.get(slug="dev"),
    )
    run = DeploymentRun(deployment)
    for expression in EXPRESSIONS:
        run.log.info(f"container environment: {computed(expression)}")
    run.log.flush()
    stored = " ".join(deployment.log_lines.values_list("text", flat=True))
    assert_no_derived_text(stored, "the task log")
    assert stored.count("********") == len(EXPRESSIONS)
