"""The process editor and the variables grid post their whole state and show errors in place."""

import pytest

from releases.models import Variable
from releases.process import process_for
from tests.form_kit import as_post, form_data
from tests.scenarios import SECRET

pytestmark = pytest.mark.django_db


def test_the_editor_posts_back_exactly_the_process_it_shows(admin_client, hello_project):
    before = process_for(hello_project)
    page = admin_client.get("/projects/hello-color/process/")
    assert page.status_code == 200
    response = admin_client.post(
        "/projects/hello-color/process/", as_post(form_data(page.content.decode()))
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    after = process_for(hello_project)
    assert after.steps == before.steps
    assert after.version == before.version


def test_the_editor_saves_a_change_and_shows_preview_links(admin_client, hello_project):
    page = admin_client.get("/projects/hello-color/process/").content.decode()
    assert "Preview for Dev" in page and "Preview for Prod" in page
    data = form_data(page, **{"steps[0].properties.desired_count": "3"})
    assert admin_client.post("/projects/hello-color/process/", as_post(data)).status_code == 302
    assert process_for(hello_project).steps[0]["properties"]["desired_count"] == 3


def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(admin_client, hello_project):
    before = process_for(hello_project).steps
    page = admin_client.get("/projects/hello-color/process/").content.decode()
    data = form_data(
        page,
        **{
            "steps[0].properties.network_mode": "bridge",
            "steps[0].properties.task_cpu": "3",
            "steps[0].properties.containers[0].image": "",
        },
    )
    response = admin_client.post("/projects/hello-color/process/", as_post(data))
    assert response.status_code == 400
    html = response.content.decode()
    assert "FARGATE tasks need the awsvpc network mode" in html
    assert "FARGATE task CPU must be one of" in html
    assert "Image is required." in html
    assert 'value="3"' in html  # the rejected input is kept for fixing
    assert process_for(hello_project).steps == before


def test_the_grid_shows_a_sensitive_value_as_set_and_never_its_value(admin_client, hello_project):
    html = admin_client.get("/projects/hello-color/variables/").content.decode()
    assert SECRET not in html and "p@ss" not in html
    assert ">set<" in html


def test_the_grid_posts_back_unchanged_and_keeps_the_secret(admin_client, hello_project):
    page = admin_client.get("/projects/hello-color/variables/").content.decode()
    response = admin_client.post("/projects/hello-color/variables/", as_post(form_data(page)))
    assert response.status_code == 302
    secret = Variable.objects.get(project=hello_project, name="DbPassword")
    assert secret.secret_value == SECRET
    assert Variable.objects.filter(project=hello_project).count() == 9


def test_a_clash_in_the_grid_is_explained_and_nothing_is_saved(admin_client, hello_project):
    page = admin_client.get("/projects/hello-color/variables/").content.decode()
    data = form_data(page)
    data.appendlist("row", "77")
    data.setlist("v-77-name", ["color"])
    data.setlist("v-77-value", ["green"])
    data.setlist("v-77-type", ["text"])
    data.setlist("v-77-env", ["dev"])
    response = admin_client.post("/projects/hello-color/variables/", as_post(data))
    assert response.status_code == 400
    assert "already has a value for Dev" in response.content.decode()
    assert not Variable.objects.filter(value="green").exists()


def test_a_viewer_sees_the_pages_but_cannot_save(client, viewer_user, hello_project):
    client.force_login(viewer_user)
    assert client.get("/projects/hello-color/variables/").status_code == 200
    assert client.get("/projects/hello-color/process/").status_code == 200
    assert client.post("/projects/hello-color/variables/", {"row": []}).status_code == 403
    assert client.post("/projects/hello-color/process/", {}).status_code == 403


def test_pages_need_a_login(client, hello_project):
    response = client.get("/projects/hello-color/variables/")
    assert response.status_code == 302 and "/login" in response["Location"]
