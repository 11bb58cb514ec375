"""The display rendition (imaging.shape): the picture the before/after shows, at most
DISPLAY_SIDE on its long side, made from the still already decoded for the model; a JPEG, or a
WebP where the picture has transparency."""

import io

import pytest
from PIL import Image

from imaging import shape_with_still, thumbnail_of
from imaging.shape import DISPLAY_SIDE, THUMBNAIL_SIDE, decode_still, display_of
from tests.support.factories import image_bytes


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def displayed(still: Image.Image, content_type: str = "image/jpeg") -> Image.Image:
    """The display rendition of still, checked to be of content_type."""
    data, made_as = display_of(still)
    display = opened(data)
    assert (made_as, Image.MIME[str(display.format)]) == (content_type, content_type)
    return display


@pytest.mark.parametrize(
    ("size", "expected"), [((4000, 2500), (1600, 1000)), ((900, 3600), (400, 1600))]
)
def test_a_large_picture_is_scaled_to_fit_the_display_side(size, expected):
    _payload, _type, still = shape_with_still(io.BytesIO(image_bytes(size)), 2048)
    display = displayed(still)
    assert display.size == expected
    assert max(display.size) == DISPLAY_SIDE


def test_a_small_picture_is_never_enlarged():
    still = Image.new("RGB", (320, 200), (10, 200, 30))
    assert displayed(still).size == (320, 200)


def test_the_rendition_is_upright_and_has_no_metadata():
    photo = image_bytes((3200, 2000), exif_orientation=6)  # to be turned a quarter
    _payload, _type, still = shape_with_still(io.BytesIO(photo), 2048)
    display = displayed(still)
    assert display.size == (1000, 1600)
    assert not display.getexif() and "icc_profile" not in display.info


def test_transparency_is_kept():
    clear = Image.new("RGBA", (2000, 1000), (0, 0, 0, 0))
    display = displayed(clear, "image/webp")
    assert display.mode == "RGBA"
    assert display.getpixel((10, 10))[3] == 0


def test_a_result_is_decoded_once_for_both_renditions():
    still = decode_still(io.BytesIO(image_bytes((3200, 2400), "PNG")))
    assert still.size == (DISPLAY_SIDE, 1200)
    thumbnail, display = opened(thumbnail_of(still)), displayed(still)
    assert thumbnail.size == (THUMBNAIL_SIDE, 360)
    assert display.size == (DISPLAY_SIDE, 1200)
    assert thumbnail.format == "WEBP"


def test_a_grey_picture_is_shown_as_it_is():
    still = Image.new("L", (2000, 1000), 90)
    display = displayed(still)
    assert display.size == (DISPLAY_SIDE, 800)
    assert display.getpixel((5, 5)) in ((89, 89, 89), (90, 90, 90), (91, 91, 91))
