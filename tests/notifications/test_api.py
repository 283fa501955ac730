"""The webhooks API: the secret is write-only and encrypted, bad input is 400, deliveries are
listed and can be sent again."""

import json

from django.db import connection

from notifications.models import Delivery, Webhook

SECRET = "top-secret-signing-key-42"


def test_the_secret_is_write_only_and_never_stored_in_clear(admin_api, project):
    response = admin_api.post(
        "/api/webhooks/",
        {
            "name": "Chat",
            "url": "https://chat.example.org/hooks/abc",
            "secret": SECRET,
            "events": ["deployment.failed", "release.created"],
            "projects": ["hello-color"],
            "environments": ["prod"],
            "format": "slack",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert "secret" not in data and data["has_secret"] is True
    assert data["events"] == ["release.created", "deployment.failed"]
    assert data["projects"] == ["hello-color"] and data["environments"] == ["prod"]
    listed = admin_api.get("/api/webhooks/").content.decode()
    assert SECRET not in listed and SECRET not in admin_api.get("/api/audit/").content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_webhook")
        (stored,) = cursor.fetchone()
    assert SECRET not in stored and stored.startswith("fernet:")

    # A blank secret keeps the stored one; a new URL clears it unless one is sent.
    url = f"/api/webhooks/{data['id']}/"
    assert admin_api.patch(url, {"secret": ""}, format="json").json()["has_secret"] is True
    moved = admin_api.patch(url, {"url": "https://other.example.org/x"}, format="json").json()
    assert moved["has_secret"] is False


def test_the_url_is_a_credential_too_encrypted_and_shown_as_its_host_only(
    admin_api, admin_client, project
):
    hook = "https://hooks.slack.example/services/T000/B000/XXXXsecretXXXX"
    response = admin_api.post(
        "/api/webhooks/",
        {"name": "Slack", "url": hook, "events": ["deployment.failed"], "format": "slack"},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert "url" not in data and data["url_display"] == "https://hooks.slack.example/…"
    with connection.cursor() as cursor:
        cursor.execute("SELECT url FROM notifications_webhook")
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:") and "XXXXsecretXXXX" not in stored
    assert Webhook.objects.get().url == hook  # the sender reads it in clear
    for page in (
        admin_api.get("/api/webhooks/"),
        admin_api.get("/api/audit/"),
        admin_client.get("/settings/webhooks/"),
        admin_client.get(f"/settings/webhooks/{data['id']}/edit/"),
    ):
        assert page.status_code == 200
        assert "XXXXsecretXXXX" not in page.content.decode()

    # Leaving it out keeps it; a rename does not touch it.
    url = f"/api/webhooks/{data['id']}/"
    assert admin_api.patch(url, {"name": "Chat"}, format="json").status_code == 200
    assert Webhook.objects.get().url == hook


def test_bad_webhook_input_is_400_with_the_reason(admin_api, project, settings):
    for data, field, text in (
        ({"events": ["deployment.exploded"]}, "events", "is not a valid choice"),
        ({"events": []}, "events", "at least one event"),
        ({"url": "ftp://example.org/"}, "url", "http:// or https://"),
        ({"url": "http://169.254.169.254/latest/"}, "url", "cloud metadata address"),
        ({"projects": ["nope"]}, "projects", "does not exist"),
        ({"format": "xml"}, "format", "not a valid choice"),
    ):
        body = {"name": "X", "url": "https://example.org/h", "events": ["release.created"], **data}
        response = admin_api.post("/api/webhooks/", body, format="json")
        assert response.status_code == 400, (data, response.content)
        assert text in json.dumps(response.json()[field]), response.json()
    assert not Webhook.objects.exists()


def test_deliveries_are_listed_and_redelivered(admin_api, project, admin_user):
    from notifications.delivery import fan_out
    from releases.releasing import release_create

    response = admin_api.post(
        "/api/webhooks/",
        {"name": "Hook", "url": "https://example.org/h", "events": ["release.created"]},
        format="json",
    )
    webhook = response.json()["id"]
    release_create(project=project, user=admin_user)
    fan_out()
    listed = admin_api.get(f"/api/webhooks/{webhook}/deliveries/").json()
    assert listed["count"] == 1
    (row,) = listed["results"]
    assert row["event"] == "release.created" and row["state"] == "pending"
    assert json.loads(row["body"])["delivery"] == row["delivery_id"]
    again = admin_api.post(f"/api/webhooks/deliveries/{row['id']}/redeliver/")
    assert again.status_code == 201 and again.json()["delivery_id"] != row["delivery_id"]
    assert Delivery.objects.count() == 2
    assert admin_api.post("/api/webhooks/deliveries/999999/redeliver/").status_code == 404
