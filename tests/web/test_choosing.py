"""Picking the result that stands for an edit: only its owner may, only a result it has, and
then the card, the download, "edit again", the gallery, the lightbox and the share page all
follow the chosen one. A picture made from text alone shows no original anywhere."""

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from editor import services
from editor.models import Edit, ResultImage, Share, SourceImage
from tests.support.factories import image_bytes


def an_edit(owner, *, sources: int = 1, results: int = 2, **fields) -> Edit:
    """A finished edit whose results are real, different pictures."""
    fields.setdefault("status", Edit.Status.SUCCEEDED)
    edit = Edit.objects.create(owner=owner, instruction="two takes", model="m", **fields)
    for position in range(sources):
        source = SourceImage(
            edit=edit, position=position, width=96, height=64, content_type="image/png",
            metadata_removed=True,
        )  # fmt: skip
        source.file.save(f"o{position}.png", ContentFile(image_bytes((96, 64), "PNG")), save=True)
    for position in range(results):
        result = ResultImage(
            edit=edit, position=position, width=96 + position, height=64, content_type="image/png"
        )
        picture = image_bytes((96 + position, 64), "PNG")
        result.file.save(f"r{position}.png", ContentFile(picture), save=True)
    return edit


def choose(client: Client, edit: Edit, position: int, **headers):
    return client.post(reverse("edit_choose_result", args=[edit.pk, position]), **headers)


def card_of(client: Client, edit: Edit) -> str:
    response = client.get(reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.text


def download_link(card: str) -> str:
    found = re.search(r'href="([^"]+)"[^>]*data-download-result', card)
    assert found, card
    return found.group(1)


def test_the_owner_picks_the_second_result_and_the_card_follows_it(owner_client, owner):
    edit = an_edit(owner)
    media = f"/media/{edit.pk}/result"
    assert download_link(card_of(owner_client, edit)) == f"{media}/0/download"

    response = choose(owner_client, edit, 1, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    edit.refresh_from_db()
    assert edit.chosen == 1
    card = response.text  # htmx swaps in the card as it is now
    assert f'id="edit-{edit.pk}"' in card
    assert download_link(card) == f"{media}/1/download"
    assert f"?again={edit.pk}:1" in re.search(r'href="([^"]+)"[^>]*data-again-link', card)[1]
    assert re.search(rf'src="{media}/1/display"[^>]*data-result', card)
    # The chosen one is marked, and the lightbox opens on it.
    pressed = re.findall(r'aria-pressed="(true|false)"\s+data-show-result="(\d)"', card)
    assert pressed == [("false", "0"), ("true", "1")]
    assert 'class="chosen-badge"' in card
    assert set(re.findall(r'data-lightbox-open="(\d)"', card)) == {"1"}
    # The other stays reachable.
    assert f"{media}/0/thumb" in card


def test_the_download_gives_the_chosen_picture(owner_client, owner):
    edit = an_edit(owner)
    choose(owner_client, edit, 1)
    link = download_link(card_of(owner_client, edit))
    answer = owner_client.get(link)
    assert answer.status_code == 200
    second = edit.results.get(position=1)
    with second.file.open("rb") as stored:
        assert b"".join(answer.streaming_content) == stored.read()


def test_without_javascript_choosing_goes_back_to_the_edit(owner_client, owner):
    edit = an_edit(owner)
    response = choose(owner_client, edit, 1)
    assert response.status_code == 302
    assert response["Location"] == reverse("edit_detail", args=[edit.pk])
    page = owner_client.get(response["Location"]).text
    assert download_link(page) == f"/media/{edit.pk}/result/1/download"


def test_a_position_the_edit_has_no_result_at_is_refused_with_a_reason(owner_client, owner):
    edit = an_edit(owner)
    response = choose(owner_client, edit, 5)
    assert response.status_code == 400
    assert "no such result" in response.text
    edit.refresh_from_db()
    assert edit.chosen == 0


def test_someone_else_cannot_choose_and_learns_nothing(client, owner, stranger):
    edit = an_edit(owner)
    client.force_login(stranger)
    assert choose(client, edit, 1).status_code == 404
    edit.refresh_from_db()
    assert edit.chosen == 0


def test_choosing_needs_a_post_with_the_csrf_token(owner, owner_client):
    edit = an_edit(owner)
    assert owner_client.get(reverse("edit_choose_result", args=[edit.pk, 1])).status_code == 405
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(owner)
    assert choose(checked, edit, 1).status_code == 403
    edit.refresh_from_db()
    assert edit.chosen == 0


def test_the_gallery_tile_shows_the_chosen_result(owner_client, owner):
    edit = an_edit(owner)
    services.choose_result(edit, 1)
    tiles = owner_client.get(reverse("gallery")).text
    tile = tiles[tiles.index(f'id="tile-{edit.pk}"') :]
    assert f"/media/{edit.pk}/result/1/thumb" in tile.split("</li>")[0]


def test_the_share_page_shows_and_offers_the_chosen_result_first(client, owner):
    edit = an_edit(owner)
    services.choose_result(edit, 1)
    shared, _created = services.share(edit, show_original=True, show_instruction=True)
    page = client.get(reverse("shared", args=[shared.token])).text
    base = f"/s/{shared.token}/result"
    assert re.search(rf'src="{base}/1/display"[^>]*data-shared-after', page)
    assert f'href="{base}/1/download" download data-shared-download="result"' in page
    assert f'content="http://testserver{base}/1/full"' in page  # the preview's picture
    picks = re.findall(r'aria-pressed="(true|false)"\s+data-position="(\d)"', page)
    assert picks[0] == ("true", "1")


@pytest.fixture
def generation(owner) -> Edit:
    return an_edit(owner, sources=0, results=1)


def test_a_generation_card_shows_its_result_alone(owner_client, generation):
    card = card_of(owner_client, generation)
    assert "Made from text" in card
    assert "data-before" not in card
    assert "data-compare" not in card
    assert "Download original" not in card
    assert "Show the original" not in card
    assert download_link(card) == f"/media/{generation.pk}/result/0/download"
    # A generated picture can be edited next.
    assert f"?again={generation.pk}:0" in card


def test_a_generation_page_gallery_and_lightbox_have_no_original(owner_client, generation):
    page = owner_client.get(reverse("edit_detail", args=[generation.pk])).text
    assert "Made from text" in page
    assert "data-lightbox-before" not in page
    assert 'data-view="after"' in page  # the lightbox shows the result alone
    tiles = owner_client.get(reverse("gallery")).text
    assert f"/media/{generation.pk}/source/" not in tiles
    assert "tile-pair single" in tiles


def test_a_generation_share_page_has_no_original_to_show(client, generation):
    shared = Share.objects.create(edit=generation, show_original=True)
    page = client.get(reverse("shared", args=[shared.token]))
    assert page.status_code == 200
    assert "data-shared-before" not in page.text
    assert "Download original" not in page.text
    assert "data-compare" not in page.text


def test_a_queued_generation_shows_its_instruction_and_progress(owner_client, owner):
    edit = an_edit(owner, sources=0, results=0, status=Edit.Status.QUEUED)
    card = card_of(owner_client, edit)
    assert "two takes" in card
    assert "<progress" in card
    assert "data-before" not in card


def test_the_options_asked_are_said_on_the_card_and_nothing_for_the_defaults(owner_client, owner):
    plain = an_edit(owner)
    assert "options-line" not in card_of(owner_client, plain)
    asked = an_edit(owner, options={"size": "16:9", "n": 2, "quality": "high"})
    line = re.search(
        r'<span class="options-line">(.*?)</span>\s*</span>', card_of(owner_client, asked)
    )
    assert line, card_of(owner_client, asked)
    words = re.sub(r"<[^>]+>", "|", line.group(1)).split("|")
    assert [word for word in words if word] == ["16:9", "2 results", "high quality"]
    assert ">m · <time" in card_of(owner_client, asked)  # the model's name stays
    chinese = owner_client.get(
        reverse("edit_detail", args=[asked.pk]), HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh"
    ).text
    assert "options-line" in chinese
