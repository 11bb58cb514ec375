"""Pillow work: what counts as an upload, the picture sent upstream, thumbnails.

Nothing here touches the database or the network, so every rule is tested on bytes.
"""

import io
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

# Formats accepted from users. MPO is how Pillow names the JPEGs many phones write.
UPLOAD_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "MPO": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
}
OPENERS = ["JPEG", "PNG", "WEBP", "GIF"]  # the JPEG opener also yields MPO
THUMBNAIL_SIDE = 480
EXIF_ORIENTATION = 0x0112


class InvalidImage(ValueError):
    """An upload that is not a picture Gaitu can edit; the message is shown to the user."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    content_type: str
    extension: str
    width: int
    height: int


def inspect_upload(file: BinaryIO, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Decide whether an uploaded file is a usable picture, cheaply.

    Pillow reads the header for the format and size; the pixel count is checked before any
    decoding, so a decompression bomb costs nothing. Truncation is caught by decoding: JPEGs at
    1/8 scale (draft mode), PNGs by walking their chunks, which is enough to prove them whole
    without paying for a full decode in the request.
    """
    size = _size_of(file)
    if size == 0:
        raise InvalidImage(_("The file is empty."))
    if size > max_bytes:
        raise InvalidImage(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(size / 2**20, 1), "limit": max_bytes // 2**20}
        )
    file.seek(0)
    try:
        with Image.open(file, formats=OPENERS) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidImage(
                    _("The picture is %(mp)s megapixels; the limit is %(limit)s.")
                    % {"mp": round(width * height / 1e6, 1), "limit": max_pixels // 1_000_000}
                )
            _prove_complete(image)
            content_type, extension = UPLOAD_FORMATS[image.format]
            info = ImageInfo(image.format, content_type, extension, width, height)
    except UnidentifiedImageError:
        raise InvalidImage(
            _("This file is not a picture Gaitu can read (JPEG, PNG, WebP or GIF).")
        ) from None
    except Image.DecompressionBombError:
        raise InvalidImage(
            _("The picture has too many pixels; the limit is %(limit)s megapixels.")
            % {"limit": max_pixels // 1_000_000}
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InvalidImage):
            raise
        raise InvalidImage(_("The picture is damaged or incomplete.")) from None
    finally:
        file.seek(0)
    return info


def _size_of(file: BinaryIO) -> int:
    file.seek(0, io.SEEK_END)
    return file.tell()


def _prove_complete(image: Image.Image) -> None:
    if image.format in ("JPEG", "MPO"):
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
    elif image.format == "PNG":
        image.verify()
    else:
        image.load()


def shape_for_upstream(file: BinaryIO, max_side: int) -> tuple[bytes, str]:
    """The picture as the model should see it: upright, at most max_side, no metadata.

    JPEGs are decoded at a reduced scale straight away (draft mode), which is what keeps a
    24-megapixel photo cheap in time and memory. Transparency is kept (sent as PNG);
    everything else goes as a JPEG.
    """
    file.seek(0)
    with Image.open(file) as image:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
        shaped = _upright(image, orientation)
        return _encode_for_sending(shaped)


_TRANSPOSE_FOR_ORIENTATION = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_90],
}


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    for method in _TRANSPOSE_FOR_ORIENTATION.get(orientation, []):
        image = image.transpose(method)
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _encode_for_sending(image: Image.Image) -> tuple[bytes, str]:
    out = io.BytesIO()
    if _has_alpha(image):
        image.convert("RGBA").save(out, "PNG", optimize=False, compress_level=6)
        return out.getvalue(), "image/png"
    image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue(), "image/jpeg"


def make_thumbnail(file: BinaryIO, side: int = THUMBNAIL_SIDE) -> bytes:
    """A small WebP for grids and cards, upright and without metadata."""
    file.seek(0)
    with Image.open(file) as image:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        image.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=2.0)
        thumb = _upright(image, orientation)
        thumb = thumb.convert("RGBA" if _has_alpha(thumb) else "RGB")
        out = io.BytesIO()
        thumb.save(out, "WEBP", quality=80, method=4)
        return out.getvalue()


def upright_size(file: BinaryIO) -> tuple[int, int]:
    """Width and height as displayed, i.e. after the EXIF orientation is applied."""
    file.seek(0)
    with Image.open(file) as image:
        width, height = image.size
        if image.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8):
            width, height = height, width
    file.seek(0)
    return width, height
