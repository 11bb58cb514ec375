"""The admin shows webhooks and deliveries, never a webhook's secret."""

from django.urls import reverse

from webhooks.models import Delivery

from .conftest import SECRET


def test_the_admin_never_shows_the_secret(client, owner, webhook):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client.force_login(owner)
    sent = Delivery.objects.create(
        webhook=webhook, event="edit.ended", subject="edit:1", payload={"event": "edit.ended"}
    )
    pages = [
        reverse("admin:webhooks_webhook_changelist"),
        reverse("admin:webhooks_webhook_change", args=[webhook.pk]),
        reverse("admin:webhooks_delivery_changelist"),
        reverse("admin:webhooks_delivery_change", args=[sent.pk]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert SECRET not in response.text
    assert client.get(reverse("admin:webhooks_webhook_add")).status_code == 403
