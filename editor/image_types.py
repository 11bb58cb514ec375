"""What imaging and originals share: the verdict on an upload and its facts."""

import os
import threading
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

EXIF_ORIENTATION = 0x0112
# Work that holds a whole big picture in memory (decoding, rewriting an original) is CPU work
# Pillow and bytes operations do outside the GIL: more of it at once than cores is no faster,
# only bigger. Many edits wait on their gateways at once; few hold a picture at once.
PICTURE_WORK = threading.BoundedSemaphore(os.cpu_count() or 2)
DAMAGED = _("The picture is damaged or incomplete.")


class InvalidImage(ValueError):
    """An upload that is not a picture Gaitu can edit; the message is shown to the user."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    content_type: str
    extension: str
    width: int
    height: int
