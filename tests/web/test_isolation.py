"""Nobody reaches another person's edits, pictures, shares or tokens, through any URL.

The URL list is read from the URLconf, so a new URL that takes an edit id is covered the day
it is added."""

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from accounts.models import ApiToken
from editor.models import Edit, EditGroup, Share
from tests.support.factories import upload

EDIT_URLS = sorted(
    name
    for name, patterns in get_resolver().reverse_dict.lists()
    if isinstance(name, str)
    and any("edit_id" in params for possibilities, *_ in patterns for _, params in possibilities)
)


@pytest.fixture
def owners_edit(owner_client, run_jobs):
    with run_jobs():
        owner_client.post(reverse("studio"), {"instruction": "sepia", "images": [upload()]})
    edit = Edit.objects.get()
    assert edit.status == "succeeded"
    return edit


def args_for(name: str, edit: Edit) -> list:
    if name in ("media",):
        return [edit.pk, "result", 0, "full"]
    if name == "edit_choose_result":
        return [edit.pk, 0]
    if name == "group_choose_winner":  # the owner's edit, as the winner of a group of theirs
        group = EditGroup.objects.create(owner=edit.owner, kind="comparison", instruction="x")
        Edit.objects.filter(pk=edit.pk).update(group=group)
        return [group.pk, edit.pk]
    return [edit.pk]


def test_the_list_of_urls_is_complete():
    pages = {"edit_detail", "edit_retry", "edit_cancel", "edit_share", "edit_unshare", "media"}
    api = {"api_edit", "api_edit_cancel", "api_edit_retry", "api_edit_share"}
    assert pages | api <= set(EDIT_URLS)


@pytest.mark.parametrize("name", EDIT_URLS)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_another_person_gets_404(owners_edit, stranger, name, method):
    browser = Client()
    browser.force_login(stranger)
    token = ApiToken.issue(stranger)[1]
    url = reverse(name, args=args_for(name, owners_edit))
    by_session, by_token = (browser, {}), (Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"})
    # Pages take the session, the API the token, pictures either: each is tried its own way.
    ways = [by_token] if name.startswith("api_") else [by_session]
    if name == "media":
        ways = [by_session, by_token]
    for client, headers in ways:
        response = getattr(client, method)(url, **headers)
        assert response.status_code in (404, 405), (url, method, response.status_code)
    owners_edit.refresh_from_db()
    assert owners_edit.status == "succeeded"
    assert owners_edit.chosen == 0
    assert not Share.objects.exists()
    assert not EditGroup.objects.exclude(winner=None).exists()


@pytest.mark.parametrize("kind", ["source", "result"])
@pytest.mark.parametrize("variant", ["full", "thumb", "download"])
def test_every_picture_is_private(owners_edit, stranger, kind, variant):
    browser = Client()
    browser.force_login(stranger)
    url = reverse("media", args=[owners_edit.pk, kind, 0, variant])
    assert browser.get(url).status_code == 404
    assert Client().get(url).status_code == 404


def test_the_gallery_and_lists_show_only_ones_own(owners_edit, stranger):
    browser = Client()
    browser.force_login(stranger)
    assert str(owners_edit.pk) not in browser.get(reverse("gallery")).text
    assert str(owners_edit.pk) not in browser.get(reverse("studio")).text
    token = ApiToken.issue(stranger)[1]
    listing = Client().get(reverse("api_edits"), HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert listing["count"] == 0
