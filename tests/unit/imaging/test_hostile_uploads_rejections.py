"""Hostile and broken uploads are refused by inspect_upload, with a message saying what is wrong.

Not a picture at all, a picture format Gaitu does not take, a file cut short or damaged inside,
too many pixels (decompression bombs included), or too many bytes.
"""

import io
import struct
import zlib

import pytest

from imaging import InvalidImage, inspect_upload
from tests.support.upload_samples import (
    GOOD_RGB_ROWS,
    LIMITS,
    PNG,
    PROGRESSIVE,
    RED,
    chunk,
    png,
    png_rows,
    solid,
    with_segments,
)


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


def with_sof_size(jpeg: bytes, width: int, height: int) -> bytes:
    at = jpeg.index(b"\xff\xc0") + 5
    return jpeg[:at] + struct.pack(">HH", height, width) + jpeg[at + 4 :]


def with_gif_screen(gif: bytes, width: int, height: int) -> bytes:
    return gif[:6] + struct.pack("<HH", width, height) + gif[10:]


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


NOT_READABLE = "^This file is not a picture Gaitu can read"
DAMAGED = "damaged or incomplete"
JPEG = solid("JPEG", size=(400, 300), quality=90)
# As phones write them: an EXIF thumbnail, a whole JPEG with its own end marker, before the scan.
WITH_THUMBNAIL = with_segments(JPEG, (b"\xff\xe1", b"Exif\x00\x00" + solid("JPEG", size=(16, 8))))


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
    ("jpeg-with-thumbnail-cut-in-scan", lambda: WITH_THUMBNAIL[:-50], DAMAGED),
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
