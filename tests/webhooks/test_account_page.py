"""The account page lists the person's webhooks with how each last delivery went."""

import pytest
from django.urls import reverse
from django.utils import timezone

from webhooks.models import Delivery, Webhook

from .conftest import SECRET


@pytest.fixture
def hook(token) -> Webhook:
    return Webhook.objects.create(
        token=token, url="https://hooks.example/gaitu", secret=SECRET, origin=""
    )


def deliver(hook: Webhook, subject: str, **fields) -> Delivery:
    return Delivery.objects.create(
        webhook=hook, event="edit.ended", subject=subject, payload={}, **fields
    )


def test_the_page_lists_webhooks_with_their_last_status(owner_client, hook, token):
    page = owner_client.get(reverse("account"))
    assert "https://hooks.example/gaitu" in page.text
    assert "No webhooks yet" not in page.text
    assert page.context["webhooks"][0].last_status is None  # none sent yet

    deliver(hook, "edit:1", status="delivered", last_status_code=200, attempts=1)
    deliver(
        hook,
        "edit:2",
        status="failed",
        attempts=1,
        last_error="address 10.1.2.3 is private",
        last_attempt_at=timezone.now(),
    )
    page = owner_client.get(reverse("account"))
    [listed] = page.context["webhooks"]
    assert (listed.last_status, listed.last_error) == ("failed", "address 10.1.2.3 is private")
    assert "Failed" in page.text and "address 10.1.2.3 is private" in page.text
    assert f"{token.prefix}…" in page.text
    assert SECRET not in page.text


def test_the_code_of_the_answer_is_shown(owner_client, hook):
    deliver(hook, "edit:1", status="delivered", last_status_code=204, attempts=1)
    page = owner_client.get(reverse("account"))
    assert "Delivered" in page.text and "HTTP 204" in page.text


def test_none_yet(owner_client, token):
    assert "No webhooks yet" in owner_client.get(reverse("account")).text


def test_deleting_one(owner_client, hook):
    response = owner_client.post(reverse("webhook_delete", args=[hook.pk]))
    assert response["Location"] == reverse("account")
    assert not Webhook.objects.exists()
    assert (
        "Nothing more is sent to https://hooks.example/gaitu"
        in owner_client.get(reverse("account")).text
    )


def test_someone_else_cannot_delete_it(client, stranger, hook):
    client.force_login(stranger)
    assert client.post(reverse("webhook_delete", args=[hook.pk])).status_code == 404
    assert "hooks.example" not in client.get(reverse("account")).text
    assert Webhook.objects.filter(pk=hook.pk).exists()


def test_deleting_takes_a_post(owner_client, hook):
    assert owner_client.get(reverse("webhook_delete", args=[hook.pk])).status_code == 405
    assert Webhook.objects.filter(pk=hook.pk).exists()
