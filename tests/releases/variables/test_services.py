"""Saving the whole variable set: validation, all-or-nothing, secrets encrypted at rest."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from deployserver.core.models import AuditEvent
from releases.models import Variable
from releases.variables import VariableInput, variable_set_replace, variable_specs
from tests.factories import EnvironmentFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory(slug="shop")


@pytest.fixture
def envs():
    return {
        "dev": EnvironmentFactory(name="Dev", slug="dev"),
        "prod": EnvironmentFactory(name="Prod", slug="prod"),
    }


def save(project, user, *rows):
    return variable_set_replace(project=project, rows=list(rows), user=user)


def errors_of(exc_info):
    return exc_info.value.message_dict


def test_rows_are_created_with_their_scopes(project, envs, admin_user):
    saved = save(
        project,
        admin_user,
        VariableInput("Color", "red"),
        VariableInput("Color", "blue", environments=["dev"]),
    )
    assert [(v["name"], v["value"], v["environments"]) for v in saved] == [
        ("Color", "red", []),
        ("Color", "blue", ["dev"]),
    ]


def test_sensitive_values_are_encrypted_in_the_database(project, envs, admin_user):
    save(project, admin_user, VariableInput("DbPassword", "hunter2-secret", type="sensitive"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, secret_value FROM releases_variable")
        value, stored = cursor.fetchone()
    assert value == ""
    assert "hunter2-secret" not in stored
    assert stored.startswith("fernet:")
    assert variable_specs(project)[0].value == "hunter2-secret"


def test_an_existing_sensitive_value_is_kept_when_no_value_is_given(project, envs, admin_user):
    (row,) = save(project, admin_user, VariableInput("Token", "s3cret", type="sensitive"))
    save(project, admin_user, VariableInput("Token", None, type="sensitive", id=row["id"]))
    assert variable_specs(project)[0].value == "s3cret"
    save(project, admin_user, VariableInput("Token", "n3w", type="sensitive", id=row["id"]))
    assert variable_specs(project)[0].value == "n3w"


def test_a_new_sensitive_row_needs_a_value(project, envs, admin_user):
    with pytest.raises(ValidationError) as caught:
        save(project, admin_user, VariableInput("Token", None, type="sensitive"))
    assert errors_of(caught) == {"variables[0].value": ["A new sensitive value is required."]}


def test_turning_a_sensitive_variable_into_text_drops_the_secret(project, envs, admin_user):
    (row,) = save(project, admin_user, VariableInput("Token", "s3cret", type="sensitive"))
    save(project, admin_user, VariableInput("Token", "plain", id=row["id"]))
    assert Variable.objects.get().secret_value == ""


def test_rows_left_out_are_deleted_and_ids_keep_rows(project, envs, admin_user):
    a, b = save(project, admin_user, VariableInput("A", "1"), VariableInput("B", "2"))
    (kept,) = save(project, admin_user, VariableInput("B", "3", id=b["id"], environments=["prod"]))
    assert kept == {
        "id": b["id"],
        "name": "B",
        "type": "text",
        "value": "3",
        "environments": ["prod"],
        "restricted": False,
        "editable": True,
    }
    assert not Variable.objects.filter(pk=a["id"]).exists()


@pytest.mark.parametrize(
    ("row", "key", "fragment"),
    [
        (VariableInput(""), "variables[0].name", "needs a name"),
        (VariableInput("1abc"), "variables[0].name", "not a valid name"),
        (VariableInput("Bad Name"), "variables[0].name", "not a valid name"),
        (VariableInput("a#{b}"), "variables[0].name", "not a valid name"),
        (VariableInput("Package[web].Image"), "variables[0].name", "system variable"),
        (VariableInput("Environment.Name"), "variables[0].name", "system variable"),
        (
            VariableInput("Color", environments=["nowhere"]),
            "variables[0].environments",
            "No environment 'nowhere'",
        ),
        (VariableInput("Color", "#{Nope}"), "variables[0].value", "#{Nope} is not defined"),
        (VariableInput("Color", "#{Oops"), "variables[0].value", "is not closed"),
        (
            VariableInput("Acct", "missing", type="aws-account"),
            "variables[0].value",
            "No AWS account",
        ),
        (VariableInput("Color", type="weird"), "variables[0].type", "Choose one of"),
        (VariableInput("Color", id=999999), "variables[0].id", "No variable 999999"),
    ],
)
def test_bad_rows_are_refused_with_field_level_messages(
    project, envs, admin_user, row, key, fragment
):
    with pytest.raises(ValidationError) as caught:
        save(project, admin_user, row)
    assert fragment in " ".join(errors_of(caught)[key])


def test_dotted_and_indexed_names_are_valid(project, envs, admin_user):
    saved = save(
        project,
        admin_user,
        VariableInput("Octopus.Action.X", "1"),
        VariableInput("Web[a].Port", "2"),
    )
    assert [v["name"] for v in saved] == ["Octopus.Action.X", "Web[a].Port"]


def test_a_malformed_sensitive_value_is_not_echoed(project, envs, admin_user):
    with pytest.raises(ValidationError) as caught:
        save(project, admin_user, VariableInput("Token", "#{hunter2", type="sensitive"))
    assert "hunter2" not in str(caught.value)


def test_a_clash_is_refused_and_explained(project, envs, admin_user):
    with pytest.raises(ValidationError) as caught:
        save(
            project,
            admin_user,
            VariableInput("Color", "blue", environments=["dev"]),
            VariableInput("color", "green", environments=["dev", "prod"]),
        )
    (message,) = errors_of(caught)["variables[1].name"]
    assert "already has a value for Dev (row 1)" in message


def test_a_cycle_between_variables_is_refused(project, envs, admin_user):
    with pytest.raises(ValidationError) as caught:
        save(project, admin_user, VariableInput("A", "#{B}"), VariableInput("B", "x-#{A}"))
    assert (
        "Reference cycle: A → B → A." in errors_of(caught)["variables"][0]
        or "Reference cycle: B → A → B." in errors_of(caught)["variables"][0]
    )


def test_a_cycle_only_in_one_environment_is_found(project, envs, admin_user):
    with pytest.raises(ValidationError) as caught:
        save(
            project,
            admin_user,
            VariableInput("A", "#{B}"),
            VariableInput("B", "plain"),
            VariableInput("B", "#{A}", environments=["prod"]),
        )
    assert "Reference cycle" in errors_of(caught)["variables"][0]


def test_a_refused_set_changes_nothing(project, envs, admin_user):
    save(project, admin_user, VariableInput("Keep", "1"))
    before = list(Variable.objects.values_list("name", "value"))
    with pytest.raises(ValidationError):
        save(project, admin_user, VariableInput("New", "2"), VariableInput("", "bad"))
    assert list(Variable.objects.values_list("name", "value")) == before


def test_every_change_is_audited_without_values(project, envs, admin_user):
    save(project, admin_user, VariableInput("Token", "s3cret-value", type="sensitive"))
    event = AuditEvent.objects.filter(object_type="releases.project").latest("id")
    assert "added Token" in event.summary
    assert "s3cret-value" not in str(event.changes) + event.summary


def test_saving_the_same_set_again_records_nothing(project, envs, admin_user):
    (row,) = save(project, admin_user, VariableInput("A", "1"))
    count = AuditEvent.objects.count()
    save(project, admin_user, VariableInput("A", "1", id=row["id"]))
    assert AuditEvent.objects.count() == count


def test_an_environment_a_value_is_scoped_to_cannot_be_deleted(
    admin_api, project, envs, admin_user
):
    # Dropping the scope silently would make a Dev-only value apply everywhere.
    save(project, admin_user, VariableInput("Color", "blue", environments=["dev"]))
    response = admin_api.delete(f"/api/environments/{envs['dev'].pk}/")
    assert response.status_code == 400
    assert "still used by" in str(response.json())
    assert Variable.objects.get().scopes.get().environment.slug == "dev"


def test_a_save_over_a_newer_version_is_refused_and_changes_nothing(project, envs, admin_user):
    from releases.variables import VariablesConflict

    variable_set_replace(project=project, user=admin_user, rows=[VariableInput("A", "1")])
    loaded = project.variables_version
    variable_set_replace(
        project=project, user=admin_user, rows=[VariableInput("B", "2")], version=loaded
    )
    with pytest.raises(VariablesConflict, match="changed by someone else"):
        variable_set_replace(
            project=project, user=admin_user, rows=[VariableInput("C", "3")], version=loaded
        )
    assert list(Variable.objects.filter(project=project).values_list("name", flat=True)) == ["B"]
