"""Settings → Webhooks: create and edit (the secret never shown), deliveries, redeliver."""

from notifications.models import Delivery, Webhook

SECRET = "page-secret-value-123"


def test_a_webhook_is_created_and_edited_and_its_secret_never_shown(admin_client, project):
    response = admin_client.post(
        "/settings/webhooks/new/",
        {
            "name": "Chat",
            "url": "https://chat.example.org/h",
            "secret": SECRET,
            "events": ["deployment.failed"],
            "format": "slack",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    webhook = Webhook.objects.get()
    assert webhook.secret == SECRET and webhook.format == "slack"
    edit = admin_client.get(f"/settings/webhooks/{webhook.pk}/edit/").content.decode()
    assert SECRET not in edit and "A secret is stored" in edit
    assert SECRET not in admin_client.get("/settings/webhooks/").content.decode()
    response = admin_client.post(
        f"/settings/webhooks/{webhook.pk}/edit/",
        {
            "name": "Chat",
            "url": "https://chat.example.org/h",
            "events": ["deployment.failed"],
            "format": "json",
        },
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert webhook.secret == SECRET and webhook.format == "json" and not webhook.enabled


def test_a_metadata_url_is_refused_on_the_form(admin_client):
    response = admin_client.post(
        "/settings/webhooks/new/",
        {
            "name": "X",
            "url": "http://169.254.169.254/",
            "events": ["release.created"],
            "format": "json",
        },
    )
    assert response.status_code == 400
    assert "cloud metadata address" in response.content.decode()


def test_deliveries_are_listed_and_redelivered(admin_client, project, admin_user):
    from notifications.delivery import fan_out
    from notifications.services import webhook_create
    from releases.releasing import release_create

    webhook = webhook_create(
        user=admin_user, name="H", url="https://example.org/h", events=["release.created"]
    )
    release_create(project=project, user=admin_user)
    fan_out()
    delivery = Delivery.objects.get()
    page = admin_client.get(f"/settings/webhooks/{webhook.pk}/deliveries/").content.decode()
    assert str(delivery.delivery_id) in page and "Pending" in page
    response = admin_client.post(f"/settings/webhooks/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 302 and Delivery.objects.count() == 2
