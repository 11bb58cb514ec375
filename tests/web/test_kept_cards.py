"""Finished cards are rendered once and kept (studio/templatetags/cards.py): a kept card is the
card rendered afresh, carries the reader's own CSRF token, and is never stale, since whatever
changes what it shows changes its key."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from editor.models import Edit, ResultImage, Share
from studio.templatetags import cards
from studio.templatetags.cards import RenderedCards, rendered_cards
from tests.web.test_detail_card import an_edit

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
# What differs between two renderings of one page: the CSRF tokens (masked afresh per request)
# and the CSP nonces.
PER_REQUEST = re.compile(r'[A-Za-z0-9]{64}|nonce="[^"]*"')


def page(client: Client, edit: Edit | None = None) -> str:
    url = reverse("edit_detail", args=[edit.pk]) if edit else reverse("studio")
    response = client.get(url)
    assert response.status_code == 200
    return response.text


def unkept(monkeypatch, client: Client, edit: Edit | None = None) -> str:
    """The page with every card rendered afresh."""
    with monkeypatch.context() as patched:
        patched.setattr(rendered_cards, "get", lambda key: None)
        text = page(client, edit)
    rendered_cards.clear()
    return text


@pytest.fixture
def finished(owner) -> list[Edit]:
    return [
        an_edit(owner, results=1, status=Edit.Status.SUCCEEDED),
        an_edit(owner, results=3, status=Edit.Status.SUCCEEDED, chosen=1),
        an_edit(owner, sources=2, results=1, status=Edit.Status.SUCCEEDED),
        an_edit(owner, sources=0, results=1, status=Edit.Status.SUCCEEDED),
        an_edit(owner, status=Edit.Status.FAILED, error_code="gateway_down"),
        an_edit(owner, status=Edit.Status.CANCELED),
    ]


def test_a_kept_card_is_the_card_rendered_afresh(owner_client, monkeypatch, finished):
    fresh = unkept(monkeypatch, owner_client)
    assert len(rendered_cards) == 0
    first, again = page(owner_client), page(owner_client)
    assert len(rendered_cards) == len(finished)
    assert PER_REQUEST.sub("", first) == PER_REQUEST.sub("", again) == PER_REQUEST.sub("", fresh)
    detail = page(owner_client, finished[1])
    assert len(rendered_cards) == len(finished) + 1  # the wider card of an edit's own page
    assert PER_REQUEST.sub("", detail) == PER_REQUEST.sub(
        "", unkept(monkeypatch, owner_client, finished[1])
    )


def test_a_kept_card_carries_this_readers_token(owner, monkeypatch, finished):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    page(client)
    text = page(client)  # the cards come from the kept ones now
    tokens = TOKEN.findall(text)
    assert "gaitucsrf" not in text and len(tokens) >= len(finished)
    edit = finished[0]
    share = re.search(
        rf'action="{reverse("edit_share", args=[edit.pk])}".*?value="([A-Za-z0-9]{{64}})"',
        text,
        re.S,
    )
    assert share
    response = client.post(reverse("edit_share", args=[edit.pk]), {"csrfmiddlewaretoken": share[1]})
    assert response.status_code == 302
    assert Share.objects.filter(edit=edit).exists()
    # Another person's page never shows the first one's token.
    other = Client()
    other.force_login(owner)
    assert not set(TOKEN.findall(page(other))) & set(tokens)


def test_what_changes_a_card_shows_at_once(owner_client, finished):
    edit = finished[0]
    assert "Stop sharing" not in page(owner_client, edit)
    Share.objects.create(edit=edit, token="t" * 43)
    assert "Stop sharing" in page(owner_client, edit)
    Share.objects.filter(edit=edit).delete()
    assert "Stop sharing" not in page(owner_client, edit)

    picked = finished[1]
    assert 'data-chosen="1"' in page(owner_client, picked)
    Edit.objects.filter(pk=picked.pk).update(chosen=2)
    assert 'data-chosen="2"' in page(owner_client, picked)

    ResultImage.objects.filter(edit=edit).update(width=2048)
    assert 'width="2048"' in page(owner_client, edit)
    Edit.objects.filter(pk=edit.pk).update(instruction="cooler light")
    assert "cooler light" in page(owner_client)


def test_each_language_has_its_own_card(owner_client, finished):
    edit = finished[0]
    assert "Edit this result again" in page(owner_client, edit)
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = page(owner_client, edit)
    assert "Edit this result again" not in chinese and "基于此结果再次编辑" in chinese
    assert len(rendered_cards) == 2


def test_a_running_card_is_rendered_each_time(owner_client, owner):
    edit = an_edit(owner, status=Edit.Status.RUNNING, progress=10)
    assert "10%" in page(owner_client, edit)
    Edit.objects.filter(pk=edit.pk).update(progress=60)
    assert "60%" in page(owner_client, edit)
    assert len(rendered_cards) == 0


def test_a_changed_setting_forgets_the_kept_cards(owner_client, settings, finished):
    page(owner_client)
    assert len(rendered_cards) == len(finished)
    settings.GAITU_MAX_ATTEMPTS = 5
    assert len(rendered_cards) == 0


def test_the_kept_cards_are_bounded_least_recently_used_first():
    kept = RenderedCards(2)
    kept.put(b"a", "A")
    kept.put(b"b", "B")
    assert kept.get(b"a") == "A"  # now b is the least recently used
    kept.put(b"c", "C")
    assert (kept.get(b"a"), kept.get(b"b"), kept.get(b"c")) == ("A", None, "C")
    assert len(kept) == 2
    assert cards.KEPT_CARDS >= 256
