"""Odd but valid uploads are accepted, shaped for upstream and thumbnailed in the right colours.

Tiny and very long pictures, animations (first frame only), CMYK with and without a profile,
greyscale, palettes, transparency and 16 bits per sample all come out as one still picture of
the right size and colour, with no metadata.
"""

import io
import struct

import pytest
from PIL import Image, ImageChops, ImageStat

from imaging import inspect_upload, make_thumbnail
from tests.support.upload_samples import (
    BLUE,
    CMYK_ICC,
    GREEN,
    LIMITS,
    PROGRESSIVE,
    RED,
    SRGB_ICC,
    animated,
    chunk,
    cmyk_jpeg,
    encode,
    interlaced_png,
    mpo,
    png,
    png_rows,
    shape_to_send,
    solid,
)

GREY = (100, 100, 100)
PURE_RED = (255, 0, 0)  # what full magenta and yellow ink gives without a profile
ICC_GREEN = (0, 246, 28)  # what cmyk_profile() turns every ink mix into


def i16_png(values, *, transparent=None) -> bytes:
    """A 16-bit greyscale PNG, one row per value, so Pillow reads it as mode I;16."""
    extra = b"" if transparent is None else chunk(b"tRNS", struct.pack(">H", transparent))
    rows = b"".join(b"\x00" + struct.pack(">H", v) * 8 for v in values)
    return png(8, len(values), 16, 0, rows, extra=extra)


def half_clear_i16_png() -> bytes:
    """16-bit grey whose bottom half has the tRNS grey value, so is see-through."""
    return i16_png([0x8000] * 3 + [9] * 3, transparent=9)


def png16(colour: int, *samples: int) -> bytes:
    """An 8x6 PNG of one colour with 16 bits per sample, for PNG colour type 2, 4 or 6."""
    return png_rows(8, 6, 16, colour, struct.pack(f">{len(samples)}H", *samples))


def palette_png(transparent: bool) -> bytes:
    image = Image.new("P", (40, 30), 1)
    image.putpalette([*GREEN, *RED])
    return encode(image, "PNG", **({"transparency": 1} if transparent else {}))


OPAQUE = 255
# (id, sample, format, size, colour the picture must have, mean alpha of the shaped picture)
VALID = [
    ("1x1-jpeg", lambda: solid("JPEG", size=(1, 1)), "JPEG", (1, 1), RED, OPAQUE),
    ("1x1-png", lambda: solid("PNG", size=(1, 1)), "PNG", (1, 1), RED, OPAQUE),
    ("1x1-webp", lambda: solid("WEBP", size=(1, 1)), "WEBP", (1, 1), RED, OPAQUE),
    ("1x1-gif", lambda: solid("GIF", size=(1, 1)), "GIF", (1, 1), RED, OPAQUE),
    ("4000x1", lambda: solid("JPEG", (4000, 1)), "JPEG", (4000, 1), RED, OPAQUE),
    ("progressive", lambda: PROGRESSIVE, "JPEG", (400, 300), RED, OPAQUE),
    ("animated-gif", lambda: animated("GIF"), "GIF", (40, 30), RED, OPAQUE),
    ("animated-webp", lambda: animated("WEBP"), "WEBP", (40, 30), RED, OPAQUE),
    ("apng", lambda: animated("PNG"), "PNG", (40, 30), RED, OPAQUE),
    ("mpo-first-image", mpo, "MPO", (40, 30), RED, OPAQUE),
    ("cmyk-adobe", cmyk_jpeg, "JPEG", (40, 30), PURE_RED, OPAQUE),
    ("cmyk-unusable-icc", lambda: cmyk_jpeg(icc_profile=SRGB_ICC), "JPEG", (40, 30), PURE_RED, 255),
    ("cmyk-with-icc", lambda: cmyk_jpeg(icc_profile=CMYK_ICC), "JPEG", (40, 30), ICC_GREEN, 255),
    ("srgb-icc", lambda: solid("JPEG", icc_profile=SRGB_ICC), "JPEG", (40, 30), RED, OPAQUE),
    ("grey-jpeg", lambda: solid("JPEG", mode="L", color=100), "JPEG", (40, 30), GREY, OPAQUE),
    ("grey-png", lambda: solid("PNG", mode="L", color=100), "PNG", (40, 30), GREY, OPAQUE),
    ("1-bit", lambda: solid("PNG", mode="1", color=1), "PNG", (40, 30), (255,) * 3, OPAQUE),
    ("grey-alpha", lambda: solid("PNG", mode="LA", color=(100, 128)), "PNG", (40, 30), GREY, 128),
    ("palette", lambda: palette_png(False), "PNG", (40, 30), RED, OPAQUE),
    ("palette-trns", lambda: palette_png(True), "PNG", (40, 30), None, 0),
    ("rgb-trns", lambda: solid("PNG", transparency=RED), "PNG", (40, 30), None, 0),
    (
        "opaque-rgba",
        lambda: solid("PNG", mode="RGBA", color=(*RED, 255)),
        "PNG",
        (40, 30),
        RED,
        OPAQUE,
    ),
    ("rgba", lambda: solid("PNG", mode="RGBA", color=(*RED, 90)), "PNG", (40, 30), RED, 90),
    ("16-bit-grey", lambda: i16_png([0x8000] * 6), "PNG", (8, 6), (128,) * 3, OPAQUE),
    ("16-bit-grey-trns", half_clear_i16_png, "PNG", (8, 6), None, 127.5),
    ("16-bit-rgb", lambda: png16(2, 0x8000, 0x4000, 0xFFFF), "PNG", (8, 6), (128, 64, 255), 255),
    ("16-bit-rgba", lambda: png16(6, 0xC800, 0x2800, 0x2800, 0x5A00), "PNG", (8, 6), RED, 90),
    ("16-bit-grey-alpha", lambda: png16(4, 0x6400, 0xFFFF), "PNG", (8, 6), GREY, OPAQUE),
    ("interlaced-png", interlaced_png, "PNG", (13, 11), GREEN, OPAQUE),
]
VALID_PARAMS = [pytest.param(*v, id=i) for i, *v in VALID]


def mean(image: Image.Image, box=None) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(image.convert("RGBA").crop(box or (0, 0, *image.size))).mean)


def assert_colour(image: Image.Image, colour, alpha, tolerance=8):
    average = mean(image)
    assert abs(average[3] - alpha) <= 2, average
    if colour is not None:
        assert all(abs(a - c) <= tolerance for a, c in zip(average[:3], colour, strict=True)), (
            average,
            colour,
        )


def fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    scale = min(1, side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


@pytest.mark.parametrize(("make", "fmt", "size", "colour", "alpha"), VALID_PARAMS)
def test_accepts_odd_but_valid_pictures(make, fmt, size, colour, alpha):
    data = make()
    info = inspect_upload(io.BytesIO(data), **LIMITS)
    assert (info.format, (info.width, info.height)) == (fmt, size)


@pytest.mark.parametrize(("make", "fmt", "size", "colour", "alpha"), VALID_PARAMS)
def test_shaped_picture_is_a_still_in_the_right_colours(make, fmt, size, colour, alpha):
    sent, content_type = shape_to_send(io.BytesIO(make()), max_side=2048)
    shaped = Image.open(io.BytesIO(sent))
    assert content_type == ("image/jpeg" if alpha == OPAQUE else "image/png")
    assert shaped.format == content_type.split("/")[1].upper()
    assert getattr(shaped, "n_frames", 1) == 1
    assert shaped.size == fitted(size, 2048)
    assert not shaped.getexif() and "icc_profile" not in shaped.info
    assert_colour(shaped, colour, alpha)


@pytest.mark.parametrize(("make", "fmt", "size", "colour", "alpha"), VALID_PARAMS)
def test_thumbnail_is_a_still_in_the_right_colours(make, fmt, size, colour, alpha):
    thumb = Image.open(io.BytesIO(make_thumbnail(io.BytesIO(make()), side=16)))
    assert thumb.format == "WEBP"
    assert getattr(thumb, "n_frames", 1) == 1
    assert thumb.size == fitted(size, 16)
    assert "icc_profile" not in thumb.info
    assert_colour(thumb, colour, alpha, tolerance=10)


def test_16_bit_grey_is_scaled_not_clipped():
    data = i16_png([0, 0x4000, 0x8000, 0xFFFF])
    sent, _ = shape_to_send(io.BytesIO(data), max_side=2048)
    shaped = Image.open(io.BytesIO(sent)).convert("L")
    assert [shaped.getpixel((4, y)) for y in range(4)] == pytest.approx([0, 64, 128, 255], abs=4)


def test_cmyk_without_a_profile_matches_pillows_own_conversion():
    ramp = Image.linear_gradient("L").resize((64, 48))
    inks = [ramp, ramp.transpose(Image.Transpose.ROTATE_180), ramp.point(lambda v: v // 2), ramp]
    data = encode(Image.merge("CMYK", inks), "JPEG", quality=95)
    sent, _ = shape_to_send(io.BytesIO(data), max_side=2048)
    expected = Image.open(io.BytesIO(data)).convert("RGB")
    difference = ImageStat.Stat(ImageChops.difference(Image.open(io.BytesIO(sent)), expected))
    assert max(difference.mean) < 4


def test_animated_transparent_gif_is_sent_as_a_still_png():
    frames = [Image.new("P", (20, 20), 0) for _ in range(3)]
    for n, frame in enumerate(frames):
        frame.putpalette([0, 0, 0, *RED, *GREEN, *BLUE])
        frame.paste(n + 1, (5, 5, 15, 15))
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], transparency=0)
    sent, content_type = shape_to_send(io.BytesIO(data), max_side=2048)
    shaped = Image.open(io.BytesIO(sent))
    assert (content_type, getattr(shaped, "n_frames", 1)) == ("image/png", 1)
    assert shaped.getpixel((1, 1))[3] == 0
    assert shaped.getpixel((10, 10)) == (*RED, 255)  # the first frame's square
