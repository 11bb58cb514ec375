"""Whatever is accepted can be used: damaged files are rejected cleanly or are fully usable.

Samples are cut short at many lengths or have a few bytes overwritten (and PNGs are rebuilt with
every checksum right around damaged pixel data); each is either refused with InvalidImage or
cleaned, shaped and thumbnailed.
"""

import io
import random
import zlib

import pytest

from imaging import (
    InvalidImage,
    clean_original,
    inspect_upload,
    make_thumbnail,
)
from tests.support.upload_samples import (
    GOOD_RGB_ROWS,
    LIMITS,
    PROGRESSIVE,
    animated,
    camera_jpeg,
    camera_png,
    camera_webp,
    cmyk_jpeg,
    mpo,
    png,
    shape_to_send,
)


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
        try:
            cleaned = clean_original(io.BytesIO(data), info.content_type)
        except InvalidImage:
            # A JPEG is checked cheaply in the request (it must end after its first scan); the
            # worker's full walk finds the rest and fails the edit saying the picture is damaged.
            assert info.format in ("JPEG", "MPO")
            continue
        inspect_upload(io.BytesIO(cleaned), **LIMITS)
        try:
            shape_to_send(io.BytesIO(data), max_side=32)
            make_thumbnail(io.BytesIO(data), side=16)
        except OSError:
            # A JPEG is proven whole by its markers, not decoded, in the request; damage in
            # its coded data surfaces here, in the worker, which fails the edit saying so.
            assert info.format in ("JPEG", "MPO")
