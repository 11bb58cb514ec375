"""Masks: the area of a picture to change, painted in the browser at the picture's own size.

A mask is kept as it is sent to the images API: a PNG the size of the picture, transparent
(alpha 0) where the picture should change and opaque where it should stay.
"""

import io
from typing import IO

from PIL import Image, UnidentifiedImageError

from .types import PICTURE_WORK, InvalidImage

# Decoding a mask is cheap (one channel matters), but a mask is as big as its picture.
MASK_MAX_PIXELS = 100_000_000
CHANGE_BELOW = 128  # an alpha under this is "change here"


def inspect_mask(file: IO[bytes], picture_size: tuple[int, int]) -> tuple[int, int]:
    """The mask's size, once it is known to be a PNG of the picture's size (either way round:
    the browser paints on the picture turned upright) marking some area to change.

    Raises InvalidImage ("mask_not_png", "mask_size", "mask_empty").
    """
    file.seek(0)
    try:
        with PICTURE_WORK, Image.open(file, formats=["PNG"]) as mask:
            size = mask.size
            if size[0] * size[1] > MASK_MAX_PIXELS:
                raise InvalidImage("mask_not_png")
            if size not in (picture_size, picture_size[::-1]):
                raise InvalidImage(
                    "mask_size",
                    width=size[0],
                    height=size[1],
                    picture_width=picture_size[0],
                    picture_height=picture_size[1],
                )
            lowest = int(_alpha(mask).getextrema()[0])  # type: ignore[arg-type]  # one band
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InvalidImage):
            raise
        raise InvalidImage("mask_not_png") from None
    if lowest >= CHANGE_BELOW:
        raise InvalidImage("mask_empty")
    return size


def mask_as_sent(file: IO[bytes], size: tuple[int, int]) -> bytes:
    """The mask at `size` (the picture as it is sent): a PNG, black, transparent where to
    change and opaque elsewhere, with nothing in between (the images API wants one or other)."""
    file.seek(0)
    with PICTURE_WORK, Image.open(file, formats=["PNG"]) as mask:
        alpha = _alpha(mask)
        if alpha.size != size:
            alpha = alpha.resize(size, Image.Resampling.BILINEAR)
        alpha = alpha.point(lambda value: 0 if value < CHANGE_BELOW else 255)
        sent = Image.new("RGBA", size, (0, 0, 0, 255))
        sent.putalpha(alpha)
        out = io.BytesIO()
        sent.save(out, "PNG")
        return out.getvalue()


def _alpha(mask: Image.Image) -> Image.Image:
    """The mask's alpha channel; a mask with none keeps all (opaque everywhere)."""
    if mask.mode in ("RGBA", "LA", "PA") or "transparency" in mask.info:
        return mask.convert("RGBA").getchannel("A")
    return Image.new("L", mask.size, 255)
