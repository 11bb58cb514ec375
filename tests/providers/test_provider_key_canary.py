"""A provider's key, once saved, is never seen again: not in any page the owner can open (the
providers' own, the admin's), not in an htmx answer, not in a log line (captured at DEBUG), not
in a database dump. The provider quotes the key back in its error, as OpenAI's API does, and
the Test button shows that error. The environment's key has the same test, end to end
(tests/web/test_secrets.py)."""

import json
import logging
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from providers.models import Provider, ProviderCall
from tests.support.reply_samples import PNG_URI

from .gateways import ListingGateway, error_reply, picture_reply

pytestmark = pytest.mark.django_db

CANARY = "sk-canary-5Jq2Xv9TzL0w"


def test_a_provider_key_appears_nowhere(boss, caplog, settings):
    caplog.set_level(logging.DEBUG)
    settings.GAITU_STREAM = False
    seen: list[str] = []
    answers = (
        picture_reply(PNG_URI),
        error_reply(401, f"Incorrect API key provided: {CANARY}. Find yours at platform."),
        error_reply(401, f"Key {CANARY} is not valid."),
    )
    with ListingGateway(*answers, listed=["gpt-4o-image", "gpt-image-1"]) as gateway:
        form = {
            "name": "Canary cloud",
            "base_url": f"{gateway.url}/v1",
            "key": CANARY,
            "transport": "chat",
            "gemini_key_in": "header",
            "models": "gpt-4o-image",
            "enabled": "on",
        }
        # Asked for its models with the key typed, with htmx and without.
        seen.append(boss.post(reverse("provider_ask_models"), form, HTTP_HX_REQUEST="true").text)
        seen.append(boss.post(reverse("provider_ask_models"), form).text)
        # Refused once (a bad link), then saved.
        seen.append(boss.post(reverse("provider_add"), {**form, "base_url": "ftp://x"}).text)
        saved = boss.post(reverse("provider_add"), form, follow=True)
        seen.append(saved.text)
        provider = Provider.objects.get()
        assert provider.key() == CANARY  # it was saved, and decrypts back
        edit_url = reverse("provider_edit", args=[provider.pk])
        seen.append(boss.get(edit_url).text)
        stored_ask = reverse("provider_ask_models_stored", args=[provider.pk])
        seen.append(boss.post(stored_ask, {**form, "key": ""}, HTTP_HX_REQUEST="true").text)
        # A refused change (the name taken by nobody else, a bad link) draws the form again.
        seen.append(boss.post(edit_url, {**form, "key": "", "base_url": "nope"}).text)
        # The Test button, once answered, then twice refused with the key quoted back.
        for _ in range(3):
            test_url = reverse("provider_test", args=[provider.pk])
            seen.append(boss.post(test_url, follow=True).text)
    # Three lists and three tests: the key did reach the provider, each time.
    assert (len(gateway.listings), len(gateway.requests)) == (3, 3)
    assert all(
        request["headers"]["Authorization"] == f"Bearer {CANARY}"
        for request in [*gateway.listings, *gateway.requests]
    )
    assert ProviderCall.objects.filter(failure_code="key_rejected").count() == 2

    for name in ["providers", "model_order", "provider_health", "provider_add"]:
        seen.append(boss.get(reverse(name)).text)
    seen.append(boss.get(reverse("provider_delete", args=[provider.pk])).text)
    seen.append(boss.get(reverse("studio")).text)
    seen.append(boss.get(reverse("account")).text)

    admin_pages = [
        "/admin/",
        "/admin/providers/provider/",
        f"/admin/providers/provider/{provider.pk}/change/",
        "/admin/providers/providercall/",
        "/admin/providers/modelroute/",
    ]
    for call in ProviderCall.objects.all():
        admin_pages.append(f"/admin/providers/providercall/{call.pk}/change/")
    for path in admin_pages:
        response = boss.get(path)
        assert response.status_code == 200, path
        seen.append(response.text)
    # The admin has no way to see or change the key.
    change_page = boss.get(f"/admin/providers/provider/{provider.pk}/change/").text
    assert "encrypted_key" not in change_page
    assert provider.encrypted_key not in change_page

    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    seen.append(dump.getvalue())
    assert json.loads(dump.getvalue())  # a real dump, with the provider's row in it
    assert "Canary cloud" in dump.getvalue()

    seen.append(caplog.text)
    seen.extend(str(record.__dict__) for record in caplog.records)

    everything = "\n".join(seen)
    assert len(everything) > 50_000
    assert "Incorrect API key provided" in everything  # the error was shown, without the key
    assert CANARY not in everything
    assert not re.search(r"5Jq2Xv9TzL0w", everything)  # nor its tail, shortened or not
