import io
import struct
import zlib

import pytest
from PIL import Image

from imaging import InvalidImage, inspect_upload, make_thumbnail
from tests.support.factories import image_bytes
from tests.support.upload_samples import shape_to_send

LIMITS = {"max_bytes": 5 * 2**20, "max_pixels": 50_000_000}


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions: only the header is real."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = b"IDAT" + zlib.compress(b"\x00" * 64)
    return b"".join(
        [b"\x89PNG\r\n\x1a\n"]
        + [
            struct.pack(">I", len(c) - 4) + c + struct.pack(">I", zlib.crc32(c))
            for c in (chunk, idat, b"IEND")
        ]
    )


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_accepts_each_format(fmt, content_type):
    info = inspect_upload(io.BytesIO(image_bytes((30, 20), fmt)), **LIMITS)
    assert (info.content_type, info.width, info.height) == (content_type, 30, 20)


def test_format_comes_from_content_not_name():
    info = inspect_upload(io.BytesIO(image_bytes(fmt="PNG")), **LIMITS)
    assert info.extension == ".png"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<html><body>hello</body></html>", "not a picture"),
        (b"%PDF-1.4\n%...", "not a picture"),
        (image_bytes((400, 300), "JPEG")[:600], "damaged or incomplete"),
        (image_bytes((400, 300), "PNG")[:-40], "damaged or incomplete"),
        (png_header_only(100_000, 100_000), "too many pixels"),
        (png_header_only(10_000, 6_000), "60.0 megapixels"),
        (b"\xff" * (6 * 2**20), "limit is 5 MB"),
    ],
    ids=["empty", "html", "pdf", "truncated-jpeg", "truncated-png", "bomb", "60mp", "too-large"],
)
def test_rejects_with_a_specific_message(data, message):
    with pytest.raises(InvalidImage, match=message):
        inspect_upload(io.BytesIO(data), **LIMITS)


def test_shaping_downscales_turns_upright_and_strips_metadata():
    photo = image_bytes((4000, 3000), exif_orientation=6, quality=85)
    data, content_type = shape_to_send(io.BytesIO(photo), max_side=2048)
    shaped = Image.open(io.BytesIO(data))
    assert content_type == "image/jpeg"
    # Orientation 6: stored landscape, shown portrait. Decoded at half scale (draft), the
    # 4000 px side comes out at 2000, within the slack allowed below 2048.
    assert shaped.size == (1500, 2000)
    assert not shaped.getexif()
    # The blue block was top-left as stored; turned 90° clockwise it is at the top right.
    assert shaped.getpixel((1460, 40))[2] > 150
    assert shaped.getpixel((40, 40))[0] > 150


def test_a_24_megapixel_camera_jpeg_is_sent_as_decoded_at_a_quarter():
    # 6000x4000 at 1/4 scale is 1500 px: within the slack below 2048, so no decode at 1/2
    # (3000 px) and resize, four times the decoding.
    data, content_type = shape_to_send(io.BytesIO(image_bytes((6000, 4000))), max_side=2048)
    assert content_type == "image/jpeg"
    assert Image.open(io.BytesIO(data)).size == (1500, 1000)


def test_shaping_keeps_small_pictures_as_they_are_sized():
    data, _ = shape_to_send(io.BytesIO(image_bytes((300, 200))), max_side=2048)
    assert Image.open(io.BytesIO(data)).size == (300, 200)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_shaping_keeps_transparency(mode):
    color = (0, 0, 0, 0) if mode == "RGBA" else (0, 0)
    data, content_type = shape_to_send(
        io.BytesIO(image_bytes((50, 50), "PNG", mode=mode, color=color)), max_side=2048
    )
    assert content_type == "image/png"
    assert Image.open(io.BytesIO(data)).getpixel((5, 5))[3] == 0


def test_shaping_keeps_palette_transparency():
    image = Image.new("P", (40, 40), 0)
    image.putpalette([255, 0, 0, 0, 255, 0])
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    data, content_type = shape_to_send(out, max_side=2048)
    assert content_type == "image/png"
    assert Image.open(io.BytesIO(data)).convert("RGBA").getpixel((1, 1))[3] == 0


def test_thumbnail_is_a_small_upright_webp():
    thumb = Image.open(
        io.BytesIO(make_thumbnail(io.BytesIO(image_bytes((2000, 1000), exif_orientation=8))))
    )
    assert thumb.format == "WEBP"
    assert max(thumb.size) == 480
    assert thumb.size == (240, 480)


def test_the_thumbnail_from_the_shaped_still_matches_one_made_alone():
    from imaging import shape_with_still, thumbnail_of

    photo = image_bytes((3000, 2000), exif_orientation=6, quality=85)
    _payload, content_type, still = shape_with_still(io.BytesIO(photo), 2048)
    # Decoded at half scale (draft): 1500 px is within the slack allowed below 2048.
    assert (content_type, still.size) == ("image/jpeg", (1000, 1500))
    together = Image.open(io.BytesIO(thumbnail_of(still)))
    alone = Image.open(io.BytesIO(make_thumbnail(io.BytesIO(photo))))
    assert together.size == alone.size == (320, 480)
