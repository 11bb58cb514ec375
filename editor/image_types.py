"""What imaging and originals share: the verdict on an upload and its facts."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

EXIF_ORIENTATION = 0x0112
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
