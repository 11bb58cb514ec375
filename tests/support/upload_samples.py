"""Pictures made for the upload tests (tests/unit/imaging/test_hostile_uploads_*.py), with
Pillow or by hand.

There are no binary fixtures: every sample is built here or in the test file that alone uses it.
Here are the builders and samples that several of those files share: PNGs assembled chunk by
chunk, a CMYK ICC profile, pictures stored in each EXIF orientation, and camera files full of
metadata that cleaning must remove.
"""

import io
import random
import struct
import zlib

from PIL import Image, ImageCms, PngImagePlugin

from imaging import shape_with_still

LIMITS = {"max_bytes": 5 * 2**20, "max_pixels": 50_000_000}
RED, GREEN, BLUE, YELLOW = (200, 40, 40), (40, 200, 60), (30, 60, 220), (230, 210, 40)
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


# The filtered rows of a 20x10 red RGB PNG, for building damaged ones around them.
GOOD_RGB_ROWS = (b"\x00" + bytes(RED) * 20) * 10


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

# A progressive JPEG and a PNG of noise (hard to compress), big enough to cut at many places.
PROGRESSIVE = solid("JPEG", size=(400, 300), progressive=True)
PNG = encode(noise((200, 150)), "PNG")


def cmyk_jpeg(**options) -> bytes:
    return solid("JPEG", mode="CMYK", color=(0, 255, 255, 0), **options)  # full magenta+yellow


def mpo() -> bytes:
    first, second = Image.new("RGB", (40, 30), RED), Image.new("RGB", (40, 30), BLUE)
    return encode(first, "MPO", save_all=True, append_images=[second])


# --- EXIF orientation -------------------------------------------------------------------------


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


def oriented(fmt: str, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    options = {"JPEG": {"quality": 95, "subsampling": 0}, "WEBP": {"lossless": True}}.get(fmt, {})
    return encode(stored_picture(upright_picture(), orientation), fmt, exif=exif, **options)


# --- camera files full of metadata -------------------------------------------------------------

CAMERA = "Gaitu Test Camera"
GPS = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 1.0), 6: 34.5}
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'exif:GPSLatitude="52,31.2N" dc:creator="Secret Person"/></rdf:RDF></x:xmpmeta>'
)
IPTC = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0b\x1c\x02\x5a\x00\x06Berlin\x00"


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


def shape_to_send(file, max_side: int) -> tuple[bytes, str]:
    """What the worker sends the model: imaging.shape_with_still's bytes and type."""
    data, content_type, _still = shape_with_still(file, max_side)
    return data, content_type


def upright_size(file) -> tuple[int, int]:
    """Width and height as displayed, read independently of imaging: after EXIF orientation."""
    file.seek(0)
    with Image.open(file) as image:
        width, height = image.size
        if image.getexif().get(0x0112) in (5, 6, 7, 8):
            width, height = height, width
    file.seek(0)
    return width, height
