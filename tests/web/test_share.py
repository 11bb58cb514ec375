"""Public share links: unguessable, public, limited to what the owner chose, revocable."""

import pytest
from django.test import Client
from django.urls import reverse

from editor.models import Edit, Share
from tests.support.factories import upload


@pytest.fixture
def finished(owner_client, run_jobs):
    with run_jobs():
        owner_client.post(reverse("studio"), {"instruction": "sepia", "images": [upload()]})
    edit = Edit.objects.get()
    assert edit.status == "succeeded"
    return edit


def share(owner_client, edit, **options) -> Share:
    owner_client.post(reverse("edit_share", args=[edit.pk]), options)
    return Share.objects.get(edit=edit)


@pytest.fixture
def visitor():
    return Client()


def test_a_share_link_is_public_and_unguessable(owner_client, visitor, finished):
    client = visitor
    link = share(owner_client, finished, show_original="1", show_instruction="1")
    assert len(link.token) >= 43  # 32 random bytes, urlsafe base64
    card = owner_client.get(reverse("edit_detail", args=[finished.pk]), HTTP_HX_REQUEST="true")
    assert reverse("shared", args=[link.token]) in card.text

    page = client.get(reverse("shared", args=[link.token]))  # nobody logged in
    assert page.status_code == 200
    assert "sepia" in page.text
    image = reverse("shared_media", args=[link.token, "result", 0, "full"])
    assert f'property="og:image" content="http://testserver{image}"' in page.text
    assert 'name="twitter:card" content="summary_large_image"' in page.text
    assert client.get(image).status_code == 200
    assert (
        client.get(reverse("shared_media", args=[link.token, "source", 0, "full"])).status_code
        == 200
    )
    # Nothing else of the owner's: not the owner's name, not their private media URLs.
    assert "owner" not in page.text
    assert "/media/" not in page.text


def test_the_owner_can_hide_the_original_and_the_instruction(owner_client, visitor, finished):
    client = visitor
    link = share(owner_client, finished)  # both boxes unticked
    page = client.get(reverse("shared", args=[link.token]))
    assert "sepia" not in page.text
    assert (
        client.get(reverse("shared_media", args=[link.token, "source", 0, "full"])).status_code
        == 404
    )
    assert (
        client.get(reverse("shared_media", args=[link.token, "result", 0, "thumb"])).status_code
        == 200
    )


def test_a_revoked_link_and_its_images_answer_404(owner_client, visitor, finished):
    client = visitor
    link = share(owner_client, finished, show_original="1")
    owner_client.post(reverse("edit_unshare", args=[finished.pk]))
    assert client.get(reverse("shared", args=[link.token])).status_code == 404
    for kind in ("source", "result"):
        url = reverse("shared_media", args=[link.token, kind, 0, "full"])
        assert client.get(url).status_code == 404


def test_only_a_finished_edit_can_be_shared(owner_client, owner):
    edit = Edit.objects.create(owner=owner, instruction="blur")
    owner_client.post(reverse("edit_share", args=[edit.pk]), {"show_original": "1"})
    assert not Share.objects.exists()


def test_someone_elses_edit_cannot_be_shared(client, stranger, finished):
    client.force_login(stranger)
    for name in ("edit_share", "edit_unshare"):
        assert client.post(reverse(name, args=[finished.pk])).status_code == 404
    assert not Share.objects.exists()


def test_unknown_tokens_are_404(client, db):
    assert client.get(reverse("shared", args=["x" * 43])).status_code == 404


def test_a_shared_page_and_its_pictures_are_kept_by_no_cache(owner_client, visitor, finished):
    """So that a revoked link stops showing anything at once, in every proxy and browser."""
    link = share(owner_client, finished, show_original="1")
    answers = [visitor.get(reverse("shared", args=[link.token]))]
    for kind in ("source", "result"):
        for variant in ("full", "thumb", "download"):
            answers.append(
                visitor.get(reverse("shared_media", args=[link.token, kind, 0, variant]))
            )
    finished.results.get().thumbnail.delete()  # the stand-in tile too
    answers.append(visitor.get(reverse("shared_media", args=[link.token, "result", 0, "thumb"])))
    assert answers[-1]["Content-Type"] == "image/svg+xml"
    for answer in answers:
        assert answer.status_code == 200
        directives = {part.strip() for part in answer["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, answer["Cache-Control"]


def test_the_owners_own_pictures_may_stay_in_their_browser(owner_client, finished):
    """Behind their login: never in a shared cache (private), kept by their browser, since a
    picture's URL never shows other bytes."""
    for kind in ("source", "result"):
        response = owner_client.get(reverse("media", args=[finished.pk, kind, 0, "full"]))
        assert response["Cache-Control"] == "private, max-age=31536000, immutable"
