"""Masks through the studio: the form takes a painted mask with the first picture and keeps it
with the first original, byte for byte; it refuses a mask of the wrong size, one that is not a
PNG, one that marks nothing, and one in a batch, each with its own words in the page; the mask
is its owner's alone (the "mask" variant of an original's media); and the card says an edit is
masked, whether the model only saw the mask as a picture, and each switch of provider.

No job runs here (nothing commits): what is checked is what the form stores and what the page
says. The brush itself is tests/e2e/test_mask_browser.py's.
"""

import html
import io
import json
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from editor.models import Edit, EditGroup, ResultImage, Share, SourceImage
from tests.support.factories import image_bytes, upload

PICTURE = (64, 48)
MODELS = ["gpt-image-1", "gpt-4o-image"]
LOOSE = "This model was shown the mask as a picture and may not keep to it exactly."


@pytest.fixture(autouse=True)
def offered(settings, media_root):
    settings.GAITU_MODELS = MODELS
    settings.GAITU_RATE_LIMIT = 0
    settings.GAITU_DAILY_LIMIT = 0


def mask_png(size=PICTURE, painted=((10, 10, 30, 30),), mode="RGBA") -> bytes:
    """A mask as the brush makes one: opaque black, transparent in the painted boxes."""
    mask = Image.new(mode, size, (0, 0, 0, 255))
    for box in painted:
        mask.paste((0, 0, 0, 0), box)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def mask_upload(data: bytes, name: str = "mask.png", content_type: str = "image/png"):
    return ContentFile(data, name=name), content_type


def post(client, data: dict, *, htmx: bool = True):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("studio"), data, **headers)


def form_data(mask: bytes | None, **extra) -> dict:
    data: dict = {
        "instruction": "make the sky purple",
        "model": "gpt-image-1",
        "images": [upload("photo.png", image_bytes(PICTURE, "PNG"), "image/png")],
        **extra,
    }
    if mask is not None:
        data["mask"] = ContentFile(mask, name="mask.png")
    return data


def mask_errors(response) -> str:
    found = re.search(
        r'<div class="errors" role="alert" id="mask-errors"[^>]*>(.*?)</div>', response.text, re.S
    )
    assert found, "no #mask-errors in the answer"
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def nothing_stored() -> bool:
    return not Edit.objects.exists() and not EditGroup.objects.exists()


# ---- The form ----------------------------------------------------------------------------------


def test_a_painted_mask_is_kept_with_the_first_original_byte_for_byte(owner_client):
    painted = mask_png()
    response = post(owner_client, form_data(painted))
    assert response.status_code == 200, response.text
    edit = Edit.objects.get()
    first, *others = edit.sources.order_by("position")
    assert others == []
    assert first.mask and first.mask.name.startswith("masks/")
    with first.mask.open("rb") as stored:
        assert stored.read() == painted
    assert edit.masked_source == first
    assert "Masked edit" in response.text  # the new card says so at once


def test_a_mask_turned_with_the_picture_is_taken_too(owner_client):
    """The browser paints on the picture as it is shown upright: either way round is its size."""
    response = post(owner_client, form_data(mask_png(size=PICTURE[::-1], painted=((1, 1, 9, 9),))))
    assert response.status_code == 200, response.text
    assert SourceImage.objects.get().mask


def test_a_mask_on_an_edit_again_belongs_to_the_result_it_starts_from(owner_client, owner):
    parent = an_edit(owner, results=1).results.get()
    data = form_data(mask_png(), parent=f"{parent.edit_id}:{parent.position}")
    data.pop("images")
    response = post(owner_client, data)
    assert response.status_code == 200, response.text
    edit = Edit.objects.exclude(pk=parent.edit_id).get()
    first = edit.sources.get(position=0)
    assert first.mask and (first.width, first.height) == PICTURE


@pytest.mark.parametrize(
    ("mask", "words"),
    [
        (mask_png(size=(40, 40)),
         "The mask is 40 × 40 px; it must be the picture's own size, 64 × 48 px."),
        (image_bytes(PICTURE, "JPEG"), "The mask is not a PNG picture."),
        (b"not a picture at all", "The mask is not a PNG picture."),
        (mask_png(painted=()), "The mask marks nothing to change"),
        (mask_png(mode="RGB", painted=()), "The mask marks nothing to change"),
    ],
    ids=["wrong size", "a jpeg", "not a picture", "nothing painted", "no alpha"],
)  # fmt: skip
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_wrong_mask_is_refused_in_the_page_and_nothing_is_stored(owner_client, mask, words, htmx):
    response = post(owner_client, form_data(mask), htmx=htmx)
    assert words in mask_errors(response)
    assert nothing_stored()
    assert not SourceImage.objects.exists()


def test_a_batch_refuses_a_mask(owner_client):
    data = form_data(mask_png(), mode="batch")
    data["images"].append(upload("second.png", image_bytes(PICTURE, "PNG"), "image/png"))
    response = post(owner_client, data)
    assert "a batch edits many. Send it alone." in mask_errors(response)
    assert nothing_stored()


def test_a_mask_needs_a_picture(owner_client):
    data = form_data(mask_png())
    data.pop("images")
    response = post(owner_client, data)
    assert "A mask needs the picture it was painted on." in mask_errors(response)
    assert nothing_stored()


def test_the_form_offers_the_brush_and_says_which_models_keep_to_a_mask(owner_client, settings):
    settings.GAITU_MODEL_TRANSPORTS = {"gpt-4o-image": "chat", "gpt-image-1": "images"}
    page = owner_client.get(reverse("studio")).text
    honoured = re.search(r'data-mask-honoured-models="([^"]*)"', page)
    assert honoured and json.loads(html.unescape(honoured.group(1))) == ["gpt-image-1"]
    assert "Paint the area to change" in page
    assert "This model is shown the mask as a picture and may not keep to it exactly." in page
    assert 'name="mask"' in page and "data-mask-brush" in page
    assert re.search(r'<link rel="stylesheet" href="[^"]*gaitu/mask\.', page)
    assert re.search(r'<script src="[^"]*gaitu/mask\.', page)


# ---- The mask's media: its owner's alone -------------------------------------------------------


def an_edit(owner, *, results: int = 0, mask: bytes | None = None, **fields) -> Edit:
    fields.setdefault("model", "gpt-4o-image")
    edit = Edit.objects.create(owner=owner, instruction="warmer light", **fields)
    source = SourceImage(edit=edit, position=0, width=PICTURE[0], height=PICTURE[1],
                         content_type="image/png", metadata_removed=True)  # fmt: skip
    source.file.save("original.png", ContentFile(image_bytes(PICTURE, "PNG")), save=False)
    if mask is not None:
        source.mask.save("mask.png", ContentFile(mask), save=False)
    source.save()
    for position in range(results):
        result = ResultImage(edit=edit, position=position, width=PICTURE[0], height=PICTURE[1],
                             content_type="image/png")  # fmt: skip
        result.file.save("result.png", ContentFile(image_bytes(PICTURE, "PNG")), save=True)
    if results:
        Edit.objects.filter(pk=edit.pk).update(status=Edit.Status.SUCCEEDED)
        edit.refresh_from_db()
    return edit


def mask_url(edit: Edit, position: int = 0) -> str:
    return reverse("media", args=[edit.pk, "source", position, "mask"])


def test_the_mask_is_served_to_its_owner_as_a_png(owner_client, owner):
    painted = mask_png()
    edit = an_edit(owner, mask=painted)
    response = owner_client.get(mask_url(edit))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == painted
    assert response["Cache-Control"].startswith("private")


def test_the_mask_is_nobody_elses(client, owner, stranger):
    edit = an_edit(owner, mask=mask_png())
    assert client.get(mask_url(edit)).status_code == 404  # signed out
    client.force_login(stranger)
    assert client.get(mask_url(edit)).status_code == 404


def test_no_mask_no_mask_and_only_for_an_original(owner_client, owner):
    plain = an_edit(owner, results=1)
    assert owner_client.get(mask_url(plain)).status_code == 404
    masked = an_edit(owner, results=1, mask=mask_png())
    assert (
        owner_client.get(reverse("media", args=[masked.pk, "result", 0, "mask"])).status_code == 404
    )
    assert owner_client.get(mask_url(masked, position=1)).status_code == 404


def test_a_share_link_never_shows_the_mask(client, owner_client, owner):
    edit = an_edit(owner, results=1, mask=mask_png())
    share = Share.objects.create(edit=edit, show_original=True, show_instruction=True)
    assert (
        client.get(reverse("shared_media", args=[share.token, "source", 0, "full"])).status_code
        == 200
    )
    assert (
        client.get(reverse("shared_media", args=[share.token, "source", 0, "mask"])).status_code
        == 404
    )
    page = client.get(reverse("shared", args=[share.token])).text
    assert "/source/0/mask" not in page and "Paint a mask" not in page and "Masked edit" not in page
    # Signed in, the owner does not get it through the share link either.
    assert (
        owner_client.get(
            reverse("shared_media", args=[share.token, "source", 0, "mask"])
        ).status_code
        == 404
    )


# ---- The card ----------------------------------------------------------------------------------


def card_of(client, edit: Edit) -> str:
    response = client.get(reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return html.unescape(response.text)


def test_a_masked_edit_for_a_chat_model_says_the_mask_may_not_be_kept(owner_client, owner):
    edit = an_edit(owner, results=1, mask=mask_png(), transport="chat")
    card = card_of(owner_client, edit)
    assert "Masked edit" in card
    assert LOOSE in card
    assert mask_url(edit) in card


def test_a_masked_edit_through_the_images_api_says_nothing_of_the_kind(owner_client, owner):
    edit = an_edit(owner, results=1, mask=mask_png(), transport="images", model="gpt-image-1")
    card = card_of(owner_client, edit)
    assert "Masked edit" in card
    assert LOOSE not in card


def test_a_masked_edit_stored_by_the_form_says_what_its_first_provider_speaks(
    owner_client, settings
):
    settings.GAITU_MODEL_TRANSPORTS = {"gpt-4o-image": "chat"}
    post(owner_client, form_data(mask_png(), model="gpt-image-1"))
    post(owner_client, form_data(mask_png(), model="gpt-4o-image"))
    by_model = {edit.model: edit for edit in Edit.objects.all()}
    assert LOOSE not in card_of(owner_client, by_model["gpt-image-1"])
    assert LOOSE in card_of(owner_client, by_model["gpt-4o-image"])


def test_an_edit_without_a_mask_says_nothing_of_one(owner_client, owner):
    card = card_of(owner_client, an_edit(owner, results=1))
    assert "Masked edit" not in card and LOOSE not in card and "/source/0/mask" not in card


def test_the_card_says_each_switch_of_provider(owner_client, owner):
    edit = an_edit(
        owner,
        results=1,
        switches=[
            {"left": "Own gateway", "to": "云雾", "after": "503"},
            {"left": "云雾", "to": "Backup", "after": "timeout"},
        ],
    )
    card = card_of(owner_client, edit)
    assert "Switched to 云雾 after 503" in card
    assert "Switched to Backup after a timeout" in card
    assert "Switched to" not in card_of(owner_client, an_edit(owner, results=1))


def test_the_detail_page_shows_the_mask_and_the_lightbox_offers_to_paint(owner_client, owner):
    edit = an_edit(owner, results=1, mask=mask_png(), transport="chat")
    page = html.unescape(owner_client.get(reverse("edit_detail", args=[edit.pk])).text)
    assert "Masked edit" in page and LOOSE in page and mask_url(edit) in page
    # Outside the studio, the lightbox's action is a link that opens the brush there.
    assert f"{reverse('studio')}?again={edit.pk}:0&paint=1" in page
    assert f"{reverse('studio')}?original={edit.pk}:0&paint=1" in page


def test_a_masked_comparison_says_for_each_model_whether_it_keeps_to_the_mask(
    owner_client, settings
):
    settings.GAITU_MODEL_TRANSPORTS = {"gpt-4o-image": "chat", "gpt-image-1": "images"}
    data = form_data(mask_png(), mode="compare", models=MODELS)
    response = post(owner_client, data)
    assert response.status_code == 200, response.text
    group = EditGroup.objects.get()
    edits = {edit.model: edit for edit in group.edits.all()}
    for edit in edits.values():  # each model's edit keeps its own copy of the mask
        with edit.sources.get(position=0).mask.open("rb") as stored:
            assert stored.read() == mask_png()
    page = html.unescape(response.text)
    assert page.count("Masked edit") == 2
    assert page.count(LOOSE) == 1
