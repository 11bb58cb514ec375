"""What the picture modules share: the verdict on an upload, and its facts."""

import os
import threading
from dataclasses import dataclass

EXIF_ORIENTATION = 0x0112
# Work that holds a whole big picture in memory (decoding, rewriting an original) is CPU work
# Pillow and bytes operations do outside the GIL: more of it at once than cores is no faster,
# only bigger. Many edits wait on their gateways at once; few hold a picture at once.
PICTURE_WORK = threading.BoundedSemaphore(os.cpu_count() or 2)

# Formats accepted from users. MPO is how Pillow names the JPEGs many phones write.
UPLOAD_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "MPO": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
}
# The file extension a stored picture gets, by its content type.
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif"}
OPENERS = ["JPEG", "PNG", "WEBP", "GIF"]  # the JPEG opener also yields MPO

# What is wrong with a file, by the problem's name: in English for logs; the app shows
# each in the reader's language (editor/failures.py).
PROBLEMS = {
    "empty": "The file is empty.",
    "too_large": "The file is %(size)s MB; the limit is %(limit)s MB.",
    "too_many_pixels": "The picture has too many pixels; the limit is %(limit)s megapixels.",
    "megapixels": "The picture is %(mp)s megapixels; the limit is %(limit)s.",
    "unsupported": "This file is not a picture Gaitu can read (JPEG, PNG, WebP or GIF).",
    "unsupported_kind": (
        "This %(kind)s file is not a picture Gaitu can read (JPEG, PNG, WebP or GIF)."
    ),
    "damaged": "The picture is damaged or incomplete.",
    "mask_not_png": "The mask is not a PNG picture.",
    "mask_size": (
        "The mask is %(width)s × %(height)s px; it must be the picture's own size, "
        "%(picture_width)s × %(picture_height)s px."
    ),
    "mask_empty": "The mask marks nothing to change: paint the area the edit should change.",
}


class InvalidImage(ValueError):
    """A file that is not a picture Gaitu can edit: which problem (PROBLEMS), and its figures."""

    def __init__(self, problem: str, **params: object):
        super().__init__(PROBLEMS[problem] % params)
        self.problem = problem
        self.params = params


@dataclass(frozen=True)
class ImageInfo:
    format: str
    content_type: str
    extension: str
    width: int
    height: int
