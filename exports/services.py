"""Starting a gallery export, and keeping only the one a person may still download."""

from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction

from .keeping import discard
from .models import GalleryExport, GalleryImport
from .tasks import build_export, run_import


def latest_export(owner: User) -> GalleryExport | None:
    return GalleryExport.objects.filter(owner=owner).first()


def start_export(owner: User) -> GalleryExport:
    """Queue a new export of the owner's gallery, or answer the one already under way.

    One export per person: a new one replaces the previous archive, so a gallery is never
    stored twice over on the server's disk.
    """
    with transaction.atomic():
        # Serialises two clicks at once (SQLite's writes are serialised anyway).
        User.objects.select_for_update().filter(pk=owner.pk).first()
        current = latest_export(owner)
        if current and current.is_active:
            return current
        discard(GalleryExport.objects.filter(owner=owner))
        export = GalleryExport.objects.create(owner=owner)
        transaction.on_commit(lambda: build_export.enqueue(str(export.pk)))
    return export


def start_import(owner: User, archive: File) -> GalleryImport:
    """Keep the uploaded archive and queue the job that imports it (exports.tasks)."""
    with transaction.atomic():
        job = GalleryImport(owner=owner)
        job.archive.save("gallery.zip", archive, save=False)
        try:
            job.save()
        except Exception:
            job.archive.delete(save=False)
            raise
        transaction.on_commit(lambda: run_import.enqueue(str(job.pk)))
    return job


def latest_import(owner: User) -> GalleryImport | None:
    return GalleryImport.objects.filter(owner=owner).first()
