"""How long a finished export is kept, and letting go of one (its archive goes after commit)."""

import functools
import logging

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import KEPT_FOR, GalleryExport

logger = logging.getLogger(__name__)


def discard_expired() -> None:
    """Remove every export kept past its time (run as each export is built)."""
    discard(GalleryExport.objects.filter(finished_at__lt=timezone.now() - KEPT_FOR))


def discard(exports: QuerySet[GalleryExport]) -> None:
    """Delete the exports, and their archives once that is committed."""
    for export in list(exports):
        name = export.file.name
        storage = export.file.storage
        export.delete()
        if name:
            transaction.on_commit(functools.partial(_delete_file, storage, name))


def _delete_file(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        logger.warning("could not delete the export %s", name, exc_info=True)
