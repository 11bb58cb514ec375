"""Pictures made on the spot for tests."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(
    size: tuple[int, int] = (64, 48),
    fmt: str = "JPEG",
    mode: str = "RGB",
    color=(200, 40, 40),
    exif_orientation: int | None = None,
    **save_options,
) -> bytes:
    image = Image.new(mode, size, color)
    if mode == "RGB":  # a second colour, so that orientation and edits are visible
        image.paste((20, 60, 220), (0, 0, size[0] // 2, size[1] // 3))
    out = io.BytesIO()
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        save_options["exif"] = exif
    image.save(out, fmt, **save_options)
    return out.getvalue()


def upload(name: str = "photo.jpg", data: bytes | None = None, content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type)
