"""A stored picture's files leave the disk with its row, whichever way the row goes.

The studio, the API and the admin delete edits through editor.services, but rows also go by
cascade: deleting a person (in the admin, or User.delete()) deletes their edits and pictures
without passing there. Deleting the files here, on the row's post_delete, covers every path.
"""

import logging
from typing import Any

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import ResultImage, SourceImage

log = logging.getLogger(__name__)


@receiver(post_delete, sender=SourceImage, dispatch_uid="editor.delete_source_files")
@receiver(post_delete, sender=ResultImage, dispatch_uid="editor.delete_result_files")
def delete_picture_files(
    sender: type[SourceImage | ResultImage],
    instance: SourceImage | ResultImage,
    using: str,
    **kwargs: Any,
) -> None:
    """Delete the picture's file and thumbnail once the delete is committed.

    Nothing half-deleted: should the transaction roll back, the rows are still there and so
    are their files. Passing on_commit also means a cascade of thousands of rows costs the
    database transaction no file work.
    """
    files = [
        (field.storage, field.name)
        for field in (instance.file, instance.thumbnail, instance.display, *_mask_of(instance))
        if field.name  # a FieldFile is true when it names a file
    ]
    if files:
        transaction.on_commit(lambda: _delete_files(files), using=using)


def _mask_of(picture: SourceImage | ResultImage) -> list:
    return [picture.mask] if isinstance(picture, SourceImage) else []


def _delete_files(files: list[tuple[Storage, str]]) -> None:
    # After the commit nobody can be told of a failure any more, and one file that can't be
    # deleted must not keep the others: it is logged, and `manage.py check_media` finds it.
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            log.warning("could not delete %s from the picture store", name, exc_info=True)
