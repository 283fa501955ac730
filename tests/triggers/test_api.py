"""The triggers API: create, read what the last check saw, refuse bad input with 400."""

from triggers.checking import triggers_check


def test_a_trigger_is_created_checked_and_read_back(admin_api, project, admin_user):
    from releases.channels import channel_create

    channel_create(project=project, user=admin_user, name="Stable", rules=[{"prerelease": "^$"}])
    url = "/api/projects/hello-color/triggers/"
    response = admin_api.post(
        url, {"name": "Images", "channel": "stable", "packages": ["web"]}, format="json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["channel"] == "stable" and created["packages"] == ["web"]
    assert created["healthy"] and created["last_checked_at"] is None

    triggers_check()
    got = admin_api.get(f"{url}{created['id']}/").json()
    assert got["last_found"] == {"web": "2.0.0"} and got["last_error"] == ""
    assert [r["release_version"] for r in got["releases_created"]] == ["0.0.1"]
    assert admin_api.get(url).json()["count"] == 1

    response = admin_api.patch(f"{url}{created['id']}/", {"enabled": False}, format="json")
    assert response.status_code == 200 and response.json()["enabled"] is False
    assert admin_api.delete(f"{url}{created['id']}/").status_code == 204


def test_bad_trigger_input_is_400_with_the_reason(admin_api, project):
    url = "/api/projects/hello-color/triggers/"
    for data, field, text in (
        ({"name": "A", "channel": "nope"}, "channel", "has no channel 'nope'"),
        ({"name": "A", "packages": ["db"]}, "packages", "Unknown package reference db"),
        ({"name": "A", "packages": "web"}, "packages", ""),
        ({"name": ""}, "name", ""),
    ):
        response = admin_api.post(url, data, format="json")
        assert response.status_code == 400, (data, response.content)
        assert text in " ".join(response.json()[field])
    admin_api.post(url, {"name": "A"}, format="json")
    response = admin_api.post(url, {"name": "a"}, format="json")
    assert response.status_code == 400 and "already has a trigger" in response.json()["name"][0]
    assert admin_api.get("/api/projects/nope/triggers/").status_code in (200, 404)
    assert admin_api.post("/api/projects/nope/triggers/", {"name": "A"}).status_code == 404


def test_a_viewer_reads_triggers_but_cannot_write_them(viewer_client, project):
    url = "/api/projects/hello-color/triggers/"
    assert viewer_client.get(url).status_code == 200
    assert (
        viewer_client.post(url, {"name": "A"}, content_type="application/json").status_code == 403
    )
