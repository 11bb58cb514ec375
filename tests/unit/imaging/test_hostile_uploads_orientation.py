"""Every EXIF orientation of an upload comes out upright: shaped, thumbnailed and measured.

Cleaning keeps the orientation tag (and only it), so the cleaned original still shows upright.
"""

import io

import pytest
from PIL import Image, ImageChops, ImageStat

from imaging import (
    clean_original,
    inspect_upload,
    make_thumbnail,
)
from tests.support.upload_samples import (
    LIMITS,
    oriented,
    shape_to_send,
    upright_picture,
    upright_size,
)


def difference(expected: Image.Image, actual: Image.Image) -> float:
    actual = actual.convert("RGB").resize(expected.size)
    return max(ImageStat.Stat(ImageChops.difference(expected, actual)).mean)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_every_orientation_comes_out_upright(fmt, orientation):
    upright = upright_picture()
    data = oriented(fmt, orientation)
    if orientation != 1:  # the test can tell a wrong orientation from the right one
        assert difference(upright, Image.open(io.BytesIO(data))) > 25
    assert upright_size(io.BytesIO(data)) == upright.size
    sent, _ = shape_to_send(io.BytesIO(data), max_side=2048)
    assert Image.open(io.BytesIO(sent)).size == upright.size
    assert difference(upright, Image.open(io.BytesIO(sent))) < 10
    small, _ = shape_to_send(io.BytesIO(data), max_side=24)
    assert Image.open(io.BytesIO(small)).size == (24, 16)
    assert difference(upright, Image.open(io.BytesIO(small))) < 14
    thumb = Image.open(io.BytesIO(make_thumbnail(io.BytesIO(data), side=480)))
    assert thumb.size == upright.size
    assert difference(upright, thumb) < 10
    cleaned = clean_original(
        io.BytesIO(data), inspect_upload(io.BytesIO(data), **LIMITS).content_type
    )
    assert dict(Image.open(io.BytesIO(cleaned)).getexif()) == (
        {} if orientation == 1 else {0x0112: orientation}
    )
    assert upright_size(io.BytesIO(cleaned)) == upright.size
