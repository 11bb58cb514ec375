"""clean_original: the kept original loses every piece of metadata but its orientation.

GPS, camera, XMP, IPTC, comments and text chunks go; the ICC profile and the pixels stay, byte for
byte. Files without metadata come back unchanged, cleaning twice changes nothing, and whatever
follows the picture in the file is dropped.
"""

import io

import pytest
from PIL import Image

from imaging import clean_original, inspect_upload
from tests.support.upload_samples import (
    CAMERA,
    CMYK_ICC,
    LIMITS,
    PNG,
    PROGRESSIVE,
    SRGB_ICC,
    animated,
    camera_exif,
    camera_jpeg,
    camera_png,
    camera_webp,
    cmyk_jpeg,
    encode,
    interlaced_png,
    mpo,
    oriented,
    solid,
    upright_picture,
    upright_size,
)

SECRETS = [CAMERA.encode(), b"Secret Person", b"Berlin", b"hidden comment", b"adobe:ns:meta"]


CAMERA_SAMPLES = [camera_jpeg, camera_png, camera_webp]


def clean(data: bytes) -> bytes:
    return clean_original(io.BytesIO(data), inspect_upload(io.BytesIO(data), **LIMITS).content_type)


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
    assert clean_original(io.BytesIO(data), "image/gif") == data


def test_cleaning_leaves_the_file_ready_to_read():
    upload = io.BytesIO(camera_jpeg())
    clean_original(upload, inspect_upload(upload, **LIMITS).content_type)
    assert upload.tell() == 0
