"""Hostile and odd uploads, at the imaging level: bytes in, outcome out.

Every sample is made here, with Pillow or by hand; there are no binary fixtures. Rejected files
must raise InvalidImage with a message that says what is wrong. Accepted ones must be shaped,
thumbnailed and cleaned correctly: first frame only, upright, right colours, no metadata.
"""

import io
import random
import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat, PngImagePlugin

from editor.imaging import (
    ImageInfo,
    InvalidImage,
    clean_original,
    inspect_upload,
    make_thumbnail,
    shape_for_upstream,
    upright_size,
)

LIMITS = {"max_bytes": 5 * 2**20, "max_pixels": 50_000_000}
RED, GREEN, BLUE, YELLOW = (200, 40, 40), (40, 200, 60), (30, 60, 220), (230, 210, 40)
GREY = (100, 100, 100)
PURE_RED = (255, 0, 0)  # what full magenta and yellow ink gives without a profile
ICC_GREEN = (0, 246, 28)  # what cmyk_profile() turns every ink mix into
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# --- making samples ---------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noise(size: tuple[int, int], mode="RGB") -> Image.Image:
    """Random but repeatable pixels: hard to compress, and the same on every run."""
    channels = len(mode)
    data = random.Random(f"{size}{mode}").randbytes(size[0] * size[1] * channels)
    return Image.frombytes(mode, size, data)


def solid(fmt: str, size=(40, 30), mode="RGB", color=RED, **options) -> bytes:
    return encode(Image.new(mode, size, color), fmt, **options)


def animated(fmt: str, **options) -> bytes:
    """Three frames, red then green then blue: the first frame is red."""
    frames = [Image.new("RGB", (40, 30), c) for c in (RED, GREEN, BLUE)]
    return encode(
        frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **options
    )


def chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png(width, height, depth, colour, raw: bytes, *, extra=b"", interlace=0, idat=None) -> bytes:
    """A PNG built by hand from already filtered rows (raw) or a ready IDAT payload."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    idat = zlib.compress(raw) if idat is None else idat
    parts = [chunk(b"IHDR", header), extra, chunk(b"IDAT", idat), chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(parts)


def png_rows(width, height, depth, colour, pixel: bytes, **options) -> bytes:
    """A PNG of one colour: every row is filter 0 and the same packed pixel repeated."""
    return png(width, height, depth, colour, (b"\x00" + pixel * width) * height, **options)


def interlaced_png(width=13, height=11) -> bytes:
    """Adam7 by hand: the rows of each pass counted by walking the pixel grid, not by formula."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2)]
    raw = b""
    for x0, y0, dx, dy in [*passes, (0, 1, 1, 2)]:
        columns = len(range(x0, width, dx))
        for _ in range(y0, height, dy):
            if columns:
                raw += b"\x00" + bytes(GREEN) * columns
    return png(width, height, 8, 2, raw, interlace=1)


def png_bomb(width=100, height=100, inflated=256 * 2**20) -> bytes:
    """A tiny greyscale picture whose IDAT inflates to a quarter of a gigabyte of zeros."""
    compressor = zlib.compressobj(9)
    block = bytes(2**20)
    idat = b"".join(compressor.compress(block) for _ in range(inflated // len(block)))
    return png(width, height, 8, 0, b"", idat=idat + compressor.flush())


def ztxt_bomb() -> bytes:
    """A compressed text chunk that inflates to 64 MiB; Pillow refuses to inflate it."""
    text = b"Comment\x00\x00" + zlib.compress(bytes(64 * 2**20), 9)
    return png_rows(4, 4, 8, 2, bytes(RED), extra=chunk(b"zTXt", text))


def png_with_idat(raw: bytes | None, idat: bytes | None = None) -> bytes:
    """A 20x10 RGB PNG with every checksum right around whatever pixel data is given."""
    return png(20, 10, 8, 2, raw or b"", idat=idat)


GOOD_RGB_ROWS = (b"\x00" + bytes(RED) * 20) * 10


def with_sof_size(jpeg: bytes, width: int, height: int) -> bytes:
    at = jpeg.index(b"\xff\xc0") + 5
    return jpeg[:at] + struct.pack(">HH", height, width) + jpeg[at + 4 :]


def with_gif_screen(gif: bytes, width: int, height: int) -> bytes:
    return gif[:6] + struct.pack("<HH", width, height) + gif[10:]


def with_segments(jpeg: bytes, *segments: tuple[bytes, bytes]) -> bytes:
    """Insert JPEG segments (marker, payload) right after SOI and a JFIF APP0."""
    at = 2
    if jpeg[2:4] == b"\xff\xe0":
        at += 2 + int.from_bytes(jpeg[4:6])
    built = b"".join(m + (len(p) + 2).to_bytes(2) + p for m, p in segments)
    return jpeg[:at] + built + jpeg[at:]


def cmyk_profile(lab=(88, -80, 80)) -> bytes:
    """A tiny ICC v2 CMYK profile whose A2B0 maps every ink mix to one Lab colour (a green).

    Output far from what a plain CMYK conversion gives proves the embedded profile was used.
    """

    def s15(v):
        return struct.pack(">i", round(v * 65536))

    lightness, a, b = lab
    colour = bytes([round(lightness * 255 / 100), a + 128, b + 128])
    identity = b"".join(s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    lut = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + identity
    lut += bytes(range(256)) * 4 + colour * 2**4 + bytes(range(256)) * 3
    white = b"XYZ " + bytes(4) + s15(0.9642) + s15(1.0) + s15(0.8249)
    text = b"test cmyk\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8 + 2 + 1 + 67)
    tags = [(b"desc", desc), (b"wtpt", white), (b"A2B0", lut)]
    offset, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = struct.pack(">I", offset + len(body)) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"prtr"
    header += b"CMYKLab " + bytes(12) + b"acsp" + bytes(28) + white[8:] + bytes(48)
    return header + struct.pack(">I", len(tags)) + table + body


CMYK_ICC = cmyk_profile()


def avif() -> bytes:
    try:
        return solid("AVIF")
    except (KeyError, OSError):  # a Pillow without AVIF: its file type box is enough here
        return b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64)


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00\x00\x00\x08free" + bytes(32)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
SVG_SCRIPT = (
    b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn by hand -->\n'
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    b'<svg version="1.1" xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>fetch('/api/edits').then(r => r.text()).then(alert)</script></svg>"
)
SVG_ENTITIES = (
    b'<?xml version="1.0"?>\n<!DOCTYPE svg [\n <!ENTITY lol "lol">\n'
    b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
    b"<SVG><text>&lol2;</text></SVG>"
)
HTML_WITH_SVG = b"<!DOCTYPE html><html><body><svg><circle r='4'/></svg></body></html>"


# --- rejected -------------------------------------------------------------------------------

NOT_READABLE = "^This file is not a picture Gaitu can read"
DAMAGED = "damaged or incomplete"
JPEG = solid("JPEG", size=(400, 300), quality=90)
PROGRESSIVE = solid("JPEG", size=(400, 300), progressive=True)
PNG = encode(noise((200, 150)), "PNG")


# (id, sample, what the message must say)
REJECTED = [
    ("empty", lambda: b"", "empty"),
    ("html", lambda: b"<!DOCTYPE html><html><body>hi</body></html>", NOT_READABLE),
    ("text", lambda: b"just some text\n", NOT_READABLE),
    ("html-with-inline-svg", lambda: HTML_WITH_SVG, NOT_READABLE),
    ("zeros", lambda: b"\x00" * 100, NOT_READABLE),
    ("svg", lambda: SVG, "^This SVG file is not a picture"),
    ("svg-with-script", lambda: SVG_SCRIPT, "^This SVG file"),
    ("svg-with-entities", lambda: SVG_ENTITIES, "^This SVG file"),
    ("pdf", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "^This PDF file"),
    ("heic", lambda: HEIC, "^This HEIC file is not a picture Gaitu can read"),
    ("avif", avif, "^This AVIF file"),
    ("tiff", lambda: solid("TIFF"), "^This TIFF file"),
    ("jpeg-header-only", lambda: JPEG[:600], DAMAGED),
    ("jpeg-cut-in-scan", lambda: JPEG[: len(JPEG) * 2 // 3], DAMAGED),
    ("jpeg-without-eoi", lambda: JPEG[:-2], DAMAGED),
    ("progressive-cut", lambda: PROGRESSIVE[: len(PROGRESSIVE) * 2 // 3], DAMAGED),
    ("png-cut-in-idat", lambda: PNG[: len(PNG) // 2], DAMAGED),
    ("png-without-iend", lambda: PNG[:-12], DAMAGED),
    ("png-short-idat", lambda: png_with_idat(GOOD_RGB_ROWS[:-31]), DAMAGED),
    ("png-long-idat", lambda: png_with_idat(GOOD_RGB_ROWS + bytes(61)), DAMAGED),
    (
        "png-unfinished-zlib",
        lambda: png_with_idat(None, zlib.compress(GOOD_RGB_ROWS)[:-6]),
        DAMAGED,
    ),
    ("png-corrupt-zlib", lambda: png_with_idat(None, b"\x78\x9c" + bytes(range(200))), DAMAGED),
    (
        "png-unknown-filter",
        lambda: png_with_idat(GOOD_RGB_ROWS[:61] + b"\x07" + GOOD_RGB_ROWS[62:]),
        DAMAGED,
    ),
    ("png-idat-bomb", png_bomb, DAMAGED),
    ("png-ztxt-bomb", ztxt_bomb, DAMAGED),
    ("png-10-gigapixels", lambda: png_rows(100_000, 100_000, 8, 2, b""), "too many pixels"),
    ("png-100mp", lambda: png_rows(10_000, 10_000, 8, 2, b""), "megapixels"),
    ("png-60mp", lambda: png_rows(10_000, 6_000, 8, 2, b""), "60.0 megapixels"),
    ("jpeg-huge-dims", lambda: with_sof_size(JPEG, 60_000, 60_000), "too many pixels"),
    ("gif-huge-screen", lambda: with_gif_screen(solid("GIF"), 65_535, 65_535), "too many pixels"),
    ("webp-cut", lambda: solid("WEBP", size=(200, 150))[:-40], DAMAGED),
    ("gif-cut", lambda: solid("GIF", size=(200, 150))[:-60], DAMAGED),
    ("too-large", lambda: b"\xff" * (6 * 2**20), "limit is 5 MB"),
]


@pytest.mark.parametrize(("make", "message"), [pytest.param(*r, id=i) for i, *r in REJECTED])
def test_rejects_with_a_specific_message(make, message):
    with pytest.raises(InvalidImage, match=message):
        inspect_upload(io.BytesIO(make()), **LIMITS)


# --- accepted: shaped and thumbnailed in the right colours ------------------------------------


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


def cmyk_jpeg(**options) -> bytes:
    return solid("JPEG", mode="CMYK", color=(0, 255, 255, 0), **options)  # full magenta+yellow


def mpo() -> bytes:
    first, second = Image.new("RGB", (40, 30), RED), Image.new("RGB", (40, 30), BLUE)
    return encode(first, "MPO", save_all=True, append_images=[second])


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
    sent, content_type = shape_for_upstream(io.BytesIO(make()), max_side=2048)
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
    sent, _ = shape_for_upstream(io.BytesIO(data), max_side=2048)
    shaped = Image.open(io.BytesIO(sent)).convert("L")
    assert [shaped.getpixel((4, y)) for y in range(4)] == pytest.approx([0, 64, 128, 255], abs=4)


def test_cmyk_without_a_profile_matches_pillows_own_conversion():
    ramp = Image.linear_gradient("L").resize((64, 48))
    inks = [ramp, ramp.transpose(Image.Transpose.ROTATE_180), ramp.point(lambda v: v // 2), ramp]
    data = encode(Image.merge("CMYK", inks), "JPEG", quality=95)
    sent, _ = shape_for_upstream(io.BytesIO(data), max_side=2048)
    expected = Image.open(io.BytesIO(data)).convert("RGB")
    difference = ImageStat.Stat(ImageChops.difference(Image.open(io.BytesIO(sent)), expected))
    assert max(difference.mean) < 4


def test_animated_transparent_gif_is_sent_as_a_still_png():
    frames = [Image.new("P", (20, 20), 0) for _ in range(3)]
    for n, frame in enumerate(frames):
        frame.putpalette([0, 0, 0, *RED, *GREEN, *BLUE])
        frame.paste(n + 1, (5, 5, 15, 15))
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], transparency=0)
    sent, content_type = shape_for_upstream(io.BytesIO(data), max_side=2048)
    shaped = Image.open(io.BytesIO(sent))
    assert (content_type, getattr(shaped, "n_frames", 1)) == ("image/png", 1)
    assert shaped.getpixel((1, 1))[3] == 0
    assert shaped.getpixel((10, 10)) == (*RED, 255)  # the first frame's square


# --- EXIF orientation ------------------------------------------------------------------------


def upright_picture() -> Image.Image:
    """48x32, red, with three corner blocks of different colours: no two of the eight
    orientations look alike."""
    image = Image.new("RGB", (48, 32), RED)
    image.paste(BLUE, (0, 0, 16, 11))
    image.paste(GREEN, (32, 0, 48, 11))
    image.paste(YELLOW, (0, 21, 16, 32))
    return image


def stored_xy(orientation, x, y, width, height):
    """Where the displayed pixel (x, y) is stored, from the EXIF definitions of row 0/column 0."""
    return {
        1: (x, y),
        2: (width - 1 - x, y),
        3: (width - 1 - x, height - 1 - y),
        4: (x, height - 1 - y),
        5: (y, x),
        6: (y, width - 1 - x),
        7: (height - 1 - y, width - 1 - x),
        8: (height - 1 - y, x),
    }[orientation]


def stored_picture(upright: Image.Image, orientation: int) -> Image.Image:
    width, height = upright.size
    stored = Image.new("RGB", (height, width) if orientation >= 5 else (width, height))
    for y in range(height):
        for x in range(width):
            stored.putpixel(stored_xy(orientation, x, y, width, height), upright.getpixel((x, y)))
    return stored


def difference(expected: Image.Image, actual: Image.Image) -> float:
    actual = actual.convert("RGB").resize(expected.size)
    return max(ImageStat.Stat(ImageChops.difference(expected, actual)).mean)


def oriented(fmt: str, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    options = {"JPEG": {"quality": 95, "subsampling": 0}, "WEBP": {"lossless": True}}.get(fmt, {})
    return encode(stored_picture(upright_picture(), orientation), fmt, exif=exif, **options)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_every_orientation_comes_out_upright(fmt, orientation):
    upright = upright_picture()
    data = oriented(fmt, orientation)
    if orientation != 1:  # the test can tell a wrong orientation from the right one
        assert difference(upright, Image.open(io.BytesIO(data))) > 25
    assert upright_size(io.BytesIO(data)) == upright.size
    sent, _ = shape_for_upstream(io.BytesIO(data), max_side=2048)
    assert Image.open(io.BytesIO(sent)).size == upright.size
    assert difference(upright, Image.open(io.BytesIO(sent))) < 10
    small, _ = shape_for_upstream(io.BytesIO(data), max_side=24)
    assert Image.open(io.BytesIO(small)).size == (24, 16)
    assert difference(upright, Image.open(io.BytesIO(small))) < 14
    thumb = Image.open(io.BytesIO(make_thumbnail(io.BytesIO(data), side=480)))
    assert thumb.size == upright.size
    assert difference(upright, thumb) < 10
    cleaned = clean_original(io.BytesIO(data), inspect_upload(io.BytesIO(data), **LIMITS))
    assert dict(Image.open(io.BytesIO(cleaned)).getexif()) == (
        {} if orientation == 1 else {0x0112: orientation}
    )
    assert upright_size(io.BytesIO(cleaned)) == upright.size


# --- clean_original -------------------------------------------------------------------------

CAMERA = "Gaitu Test Camera"
GPS = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 1.0), 6: 34.5}
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'exif:GPSLatitude="52,31.2N" dc:creator="Secret Person"/></rdf:RDF></x:xmpmeta>'
)
IPTC = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0b\x1c\x02\x5a\x00\x06Berlin\x00"
SECRETS = [CAMERA.encode(), b"Secret Person", b"Berlin", b"hidden comment", b"adobe:ns:meta"]


def camera_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = CAMERA
    exif[0x0132] = "2024:05:01 10:00:00"
    exif[0x8825] = GPS
    return exif


def camera_jpeg(orientation=6, **options) -> bytes:
    image = noise((64, 48))
    data = encode(image, "JPEG", exif=camera_exif(orientation), icc_profile=SRGB_ICC, **options)
    return with_segments(
        data,
        (b"\xff\xed", IPTC),
        (b"\xff\xfe", b"hidden comment"),
        (b"\xff\xe1", b"http://ns.adobe.com/xap/1.0/\x00" + XMP),
    )


def camera_png(orientation=6) -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "hidden comment")
    text.add_text("Author", "Secret Person", zip=True)
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    text.add(b"tIME", struct.pack(">HBBBBB", 2024, 5, 1, 10, 0, 0))
    text.add(b"iDOT", bytes(28))  # Apple's, with offsets that go stale when chunks move
    image = noise((64, 48))
    return encode(
        image,
        "PNG",
        exif=camera_exif(orientation),
        pnginfo=text,
        icc_profile=SRGB_ICC,
        dpi=(144, 144),
    )


def camera_webp(orientation=6, **options) -> bytes:
    image = noise((64, 48))
    return encode(
        image, "WEBP", exif=camera_exif(orientation), xmp=XMP, icc_profile=SRGB_ICC, **options
    )


CAMERA_SAMPLES = [camera_jpeg, camera_png, camera_webp]


def clean(data: bytes) -> bytes:
    return clean_original(io.BytesIO(data), inspect_upload(io.BytesIO(data), **LIMITS))


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.tobytes()


def webp_chunks(data: bytes) -> list[bytes]:
    kinds, pos = [], 12
    while pos < len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        kinds.append(data[pos : pos + 4])
        pos += 8 + size + size % 2
    return kinds


def png_chunks(data: bytes) -> list[bytes]:
    kinds, pos = [], 8
    while pos < len(data):
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + int.from_bytes(data[pos : pos + 4])
    return kinds


@pytest.mark.parametrize("make", CAMERA_SAMPLES, ids=["jpeg", "png", "webp"])
def test_cleaning_keeps_only_orientation_and_pixels(make):
    data = make()
    original = Image.open(io.BytesIO(data))
    assert original.getexif().get_ifd(0x8825)  # the sample does carry GPS
    cleaned = clean(data)
    image = Image.open(io.BytesIO(cleaned))
    assert image.format == original.format
    assert dict(image.getexif()) == {0x0112: 6}
    assert image.getexif().get_ifd(0x8825) == {}
    assert image.info.get("icc_profile") == SRGB_ICC  # colour is part of the picture
    assert not {"xmp", "XML:com.adobe.xmp", "comment", "Comment", "Author", "photoshop"} & set(
        image.info
    )
    assert not [secret for secret in SECRETS if secret in cleaned]
    assert pixels(cleaned) == pixels(data)
    assert upright_size(io.BytesIO(cleaned)) == (48, 64)


@pytest.mark.parametrize("make", CAMERA_SAMPLES, ids=["jpeg", "png", "webp"])
def test_cleaning_drops_all_exif_when_the_picture_is_upright(make):
    data = make(orientation=1)
    cleaned = clean(data)
    image = Image.open(io.BytesIO(cleaned))
    assert not image.getexif() and "exif" not in image.info
    assert pixels(cleaned) == pixels(data)


def test_cleaned_jpeg_segments():
    cleaned = clean(camera_jpeg())
    assert cleaned.count(b"\xff\xe1") == 1  # the one-tag EXIF; coded data never holds FF E1
    assert b"\xff\xed" not in cleaned and b"\xff\xfe" not in cleaned
    assert b"JFIF\x00" in cleaned and b"ICC_PROFILE\x00" in cleaned


def test_cleaned_png_chunks():
    cleaned = clean(camera_png())
    assert png_chunks(cleaned) == [b"IHDR", b"iCCP", b"pHYs", b"eXIf", b"IDAT", b"IEND"]


def test_cleaned_webp_container():
    cleaned = clean(camera_webp())
    assert webp_chunks(cleaned) == [b"VP8X", b"ICCP", b"VP8 ", b"EXIF"]
    assert int.from_bytes(cleaned[4:8], "little") == len(cleaned) - 8
    flags = cleaned[20]
    assert flags & 0x20 and flags & 0x08 and not flags & 0x04  # ICC and EXIF, no XMP
    upright = clean(camera_webp(orientation=1))
    assert webp_chunks(upright) == [b"VP8X", b"ICCP", b"VP8 "] and not upright[20] & 0x0C


def test_orientation_from_xmp_alone_is_kept_as_exif():
    xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="6" dc:creator="Secret Person"/>'
    data = encode(upright_picture(), "JPEG", xmp=xmp + b"</x:xmpmeta>")
    assert Image.open(io.BytesIO(data)).getexif().get(0x0112) == 6  # Pillow honours XMP
    cleaned = clean(data)
    assert dict(Image.open(io.BytesIO(cleaned)).getexif()) == {0x0112: 6}
    assert b"Secret Person" not in cleaned


def test_mpo_keeps_only_the_first_image_as_a_plain_jpeg():
    data = mpo()
    cleaned = clean(data)
    image = Image.open(io.BytesIO(cleaned))
    assert (image.format, getattr(image, "n_frames", 1)) == ("JPEG", 1)
    assert b"MPF\x00" not in cleaned and cleaned.count(b"\xff\xd8") == 1
    first = Image.open(io.BytesIO(data))
    assert image.tobytes() == first.tobytes()
    info = inspect_upload(io.BytesIO(cleaned), **LIMITS)
    assert (info.content_type, info.extension) == ("image/jpeg", ".jpg")


def test_cmyk_jpeg_keeps_its_adobe_segment():
    data = cmyk_jpeg(icc_profile=CMYK_ICC)
    cleaned = clean(data)
    assert cleaned == data  # nothing to drop: JFIF-less CMYK with Adobe and ICC segments
    assert b"Adobe" in cleaned


@pytest.mark.parametrize(
    "make",
    [
        lambda: solid("JPEG"),
        lambda: PROGRESSIVE,
        lambda: solid("PNG"),
        lambda: PNG,
        lambda: solid("WEBP"),
        lambda: solid("WEBP", lossless=True),
        lambda: animated("WEBP"),
        lambda: animated("GIF"),
        lambda: animated("PNG"),
        interlaced_png,
    ],
    ids=[
        "jpeg",
        "progressive",
        "png",
        "noise-png",
        "webp",
        "webp-lossless",
        "animated-webp",
        "gif",
        "apng",
        "interlaced-png",
    ],
)
def test_pictures_without_metadata_come_back_byte_identical(make):
    data = make()
    assert clean(data) == data


@pytest.mark.parametrize(
    "make",
    [
        camera_jpeg,
        camera_png,
        camera_webp,
        mpo,
        lambda: camera_jpeg(progressive=True),
        lambda: animated("WEBP", exif=camera_exif(8)),
        lambda: oriented("PNG", 3),
    ],
    ids=["jpeg", "png", "webp", "mpo", "progressive", "animated-webp", "png-orientation-3"],
)
def test_cleaning_is_idempotent_and_its_result_is_accepted(make):
    data = make()
    once = clean(data)
    assert clean(once) == once
    before, after = (inspect_upload(io.BytesIO(d), **LIMITS) for d in (data, once))
    assert (after.content_type, after.width, after.height) == (
        before.content_type,
        before.width,
        before.height,
    )


def test_animated_webp_stays_animated():
    cleaned = clean(animated("WEBP", exif=camera_exif(8)))
    image = Image.open(io.BytesIO(cleaned))
    assert image.n_frames == 3 and dict(image.getexif()) == {0x0112: 8}
    assert CAMERA.encode() not in cleaned


def test_anything_after_the_picture_is_dropped():
    for data in (solid("JPEG"), solid("PNG")):
        polyglot = data + b"PK\x03\x04<script>alert(1)</script>"
        assert clean(polyglot) == data


def test_gif_comes_back_as_it_is():
    data = encode(Image.new("P", (10, 10)), "GIF", comment=b"a comment")
    info = ImageInfo("GIF", "image/gif", ".gif", 10, 10)
    assert clean_original(io.BytesIO(data), info) == data


def test_cleaning_leaves_the_file_ready_to_read():
    upload = io.BytesIO(camera_jpeg())
    clean_original(upload, inspect_upload(upload, **LIMITS))
    assert upload.tell() == 0


# --- whatever is accepted can be used ---------------------------------------------------------


def mutations(data: bytes, rng: random.Random, count: int):
    """Cut-offs at many lengths, and copies with one to four bytes overwritten."""
    yield from (data[:n] for n in range(0, len(data), max(1, len(data) // 60)))
    for _ in range(count):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        yield bytes(damaged)


def repaired_png_mutations(rng: random.Random, count: int):
    """PNGs with damaged pixel data but every checksum right, which verify() lets through."""
    for _ in range(count):
        raw = bytearray(GOOD_RGB_ROWS)
        if rng.random() < 0.5:
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        else:
            del raw[rng.randrange(len(raw)) :]
        idat = zlib.compress(bytes(raw))
        yield png(20, 10, 8, 2, b"", idat=idat[: rng.randrange(len(idat) - 8, len(idat) + 1)])


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on corrupt EXIF
@pytest.mark.parametrize(
    "make",
    [
        camera_jpeg,
        lambda: PROGRESSIVE,
        camera_png,
        camera_webp,
        mpo,
        cmyk_jpeg,
        lambda: animated("GIF"),
        lambda: animated("WEBP"),
        lambda: animated("PNG"),
        None,
    ],
    ids=[
        "jpeg",
        "progressive",
        "png",
        "webp",
        "mpo",
        "cmyk",
        "gif",
        "animated-webp",
        "apng",
        "png-checksums-fixed",
    ],
)
def test_damaged_files_are_rejected_cleanly_or_fully_usable(make):
    rng = random.Random(7)
    samples = repaired_png_mutations(rng, 150) if make is None else mutations(make(), rng, 150)
    for data in samples:
        try:
            info = inspect_upload(io.BytesIO(data), **LIMITS)
        except InvalidImage:
            continue
        inspect_upload(io.BytesIO(clean_original(io.BytesIO(data), info)), **LIMITS)
        try:
            shape_for_upstream(io.BytesIO(data), max_side=32)
            make_thumbnail(io.BytesIO(data), side=16)
        except OSError:
            # A JPEG is proven whole by its markers, not decoded, in the request; damage in
            # its coded data surfaces here, in the worker, which fails the edit saying so.
            assert info.format in ("JPEG", "MPO")
