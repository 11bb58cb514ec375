"""Picture work with Pillow, no Django: checking uploads, shaping for the model, thumbnails,
and originals without their metadata. Every rule is tested on bytes."""

from .clean import clean_original
from .inspect import inspect_upload
from .shape import make_thumbnail, shape_with_still, thumbnail_of
from .types import ImageInfo, InvalidImage

__all__ = [
    "ImageInfo",
    "InvalidImage",
    "clean_original",
    "inspect_upload",
    "make_thumbnail",
    "shape_with_still",
    "thumbnail_of",
]
