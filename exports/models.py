import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How long a finished export is kept for download (a newer export replaces it sooner).
KEPT_FOR = timedelta(hours=24)
# A running export whose worker has not reported for this long is gone (the worker died):
# it counts as failed, so the person can start another.
STALE_AFTER = timedelta(minutes=5)


def export_path(instance: "GalleryExport", filename: str) -> str:
    # Random, as every stored file's name: it is served only through the owner's view.
    return f"exports/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.zip"


class BackgroundWork(models.Model):
    """What an export and an import share: a job in the background with its progress, which
    counts as failed once its worker has not reported for STALE_AFTER (the worker died)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    progress = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    UNDER_WAY = ("queued", "running")
    status: str

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def is_stale(self) -> bool:
        return self.status in self.UNDER_WAY and timezone.now() - self.updated_at > STALE_AFTER

    @property
    def is_active(self) -> bool:
        return self.status in self.UNDER_WAY and not self.is_stale


class GalleryExport(BackgroundWork):
    """One ZIP of a person's whole gallery, built in the background (exports.tasks)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting in line")
        RUNNING = "running", _("Packing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="gallery_exports"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    file = models.FileField(upload_to=export_path, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    edits = models.PositiveIntegerField(default=0, help_text=_("Edits in the archive."))
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"export {self.pk} of {self.owner_id}"

    @property
    def expires_at(self) -> datetime | None:
        return self.finished_at + KEPT_FOR if self.finished_at else None

    @property
    def is_downloadable(self) -> bool:
        expires = self.expires_at
        return (
            self.status == self.Status.DONE
            and bool(self.file)
            and expires is not None
            and timezone.now() < expires
        )


def import_path(instance: "GalleryImport", filename: str) -> str:
    return f"imports/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.zip"


class GalleryImport(BackgroundWork):
    """A gallery ZIP brought in: kept until its job has checked and stored it (exports.tasks),
    then deleted, whatever the verdict."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting in line")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Refused")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="gallery_imports"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    archive = models.FileField(upload_to=import_path, blank=True)
    edits = models.PositiveIntegerField(default=0, help_text=_("Edits added to the gallery."))
    error_code = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"import {self.pk} of {self.owner_id}"
