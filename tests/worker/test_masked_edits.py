"""Masked edits end to end against the built-in demo gateway, which honours masks whatever
the API: the images API's mask, or the mask shown as a last picture to chat and Gemini models.
The area outside the mask comes back as it was sent; the area inside is changed."""

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageChops, ImageStat

from editor import services
from editor.forms import checked_picture
from editor.models import Edit
from gateway.transport import ImageRequest
from imaging import shape_with_still
from tests.support.factories import upload
from worker import run

SIZE = (640, 480)


def colourful_png(size: tuple[int, int] = SIZE) -> bytes:
    """Bands of colour, so an inverted area differs everywhere."""
    picture = Image.new("RGB", size)
    for x in range(size[0]):
        for y in range(0, size[1], 8):
            picture.paste((x * 255 // size[0], (y * 3) % 256, 140), (x, y, x + 1, y + 8))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def left_half_mask(size: tuple[int, int] = SIZE) -> bytes:
    """Transparent (change) on the left half, opaque (keep) on the right."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def submitted(owner, model: str, picture: bytes, mask: bytes, instruction="invert the colours"):
    pictures = [checked_picture(upload("photo.png", picture, "image/png"))]
    return services.submit(
        owner,
        instruction=instruction,
        model=model,
        uploads=pictures,
        mask=ContentFile(mask, name="mask.png"),
    )


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


@pytest.mark.parametrize(
    ("model", "transport"),
    [("gpt-image-1", "images"), ("gpt-4o-image", "chat"), ("gemini-2.5-flash-image", "gemini")],
)
def test_a_masked_edit_changes_only_the_masked_area(owner, run_jobs, settings, model, transport):
    picture = colourful_png()
    with run_jobs():
        edit = submitted(owner, model, picture, left_half_mask())
    edit.refresh_from_db()
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    assert (edit.transport, edit.provider) == (transport, "demo")
    # Only the images API is given the mask; the others are shown it, and may stray.
    assert edit.mask_loosely_kept is (transport != "images")
    with edit.results.get().file.open("rb") as stored:
        result = Image.open(stored).convert("RGB")
    # The picture as Gaitu sent it (a JPEG, as every opaque picture goes): what the kept area
    # of the result is compared with, pixel by pixel.
    payload, _type, _still = shape_with_still(io.BytesIO(picture), settings.GAITU_SEND_MAX_SIDE)
    sent = Image.open(io.BytesIO(payload)).convert("RGB")
    assert result.size == sent.size == SIZE
    half = SIZE[0] // 2
    kept, changed = (half, 0, SIZE[0], SIZE[1]), (0, 0, half, SIZE[1])
    assert ImageChops.difference(result.crop(kept), sent.crop(kept)).getbbox() is None
    assert mean_difference(result.crop(changed), sent.crop(changed)) > 60


def test_the_mask_is_kept_as_painted_and_sent_at_the_size_the_picture_is_sent(
    owner, run_jobs, settings, monkeypatch
):
    """A 3000 × 2000 photo goes at 1500 × 1000 (GAITU_SEND_MAX_SIDE): its mask, painted at
    3000 × 2000, goes at exactly that size too, with its area where it was painted."""
    settings.GAITU_SEND_MAX_SIDE = 1500
    asked: list[tuple[ImageRequest, bytes]] = []
    real = run.send_with_fallback

    def recording(routes, request, **callbacks):
        # The picture as sent: its file is closed once the gateway has answered.
        asked.append((request, request.pictures[0].data))
        return real(routes, request, **callbacks)

    monkeypatch.setattr(run, "send_with_fallback", recording)
    big = (3000, 2000)
    mask = left_half_mask(big)
    with run_jobs():
        edit = submitted(owner, "gpt-image-1", colourful_png(big), mask)
    edit.refresh_from_db()
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    with edit.masked_source.mask.open("rb") as stored:
        assert stored.read() == mask  # kept byte for byte, at the picture's own size
    ((request, sent),) = asked
    sent_picture = Image.open(io.BytesIO(sent))
    sent_mask = Image.open(io.BytesIO(request.mask))
    assert sent_picture.size == sent_mask.size == (1500, 1000)
    alpha = sent_mask.getchannel("A")
    assert (alpha.getpixel((10, 500)), alpha.getpixel((1490, 500))) == (0, 255)
    # One or the other, as the images API wants: no alpha in between.
    assert [value for value, count in enumerate(alpha.histogram()) if count] == [0, 255]


def test_a_mask_is_copied_to_each_model_of_a_comparison(owner, run_jobs):
    pictures = [checked_picture(upload("photo.png", colourful_png(), "image/png"))]
    with run_jobs():
        group = services.submit_comparison(
            owner,
            instruction="invert the colours",
            models=["gpt-image-1", "gpt-4o-image"],
            uploads=pictures,
            mask=ContentFile(left_half_mask(), name="mask.png"),
        )
    masks = [edit.masked_source.mask for edit in group.edits.all()]
    assert len({mask.name for mask in masks}) == 2  # a copy each: deleting one keeps the other
    for mask in masks:
        with mask.open("rb") as stored:
            assert stored.read() == left_half_mask()
