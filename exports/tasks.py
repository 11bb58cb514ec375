"""The export job (the ZIP is written to a temporary file, then handed to the storage) and
the import job."""

import logging
import tempfile

from django.core.files import File
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from .archive import write_archive
from .importing import ImportRefused, import_archive
from .keeping import discard_expired
from .models import GalleryExport, GalleryImport

logger = logging.getLogger(__name__)


@task()
def build_export(export_id: str) -> None:
    export = GalleryExport.objects.select_related("owner").filter(pk=export_id).first()
    if export is None or export.status != GalleryExport.Status.QUEUED:
        return  # replaced by a newer export, or already taken by another worker
    rows = GalleryExport.objects.filter(pk=export.pk)
    rows.update(status=GalleryExport.Status.RUNNING, updated_at=timezone.now())

    def report(percent: int) -> None:
        # Also the job's heartbeat: an export that stops reporting is stale (models.py).
        rows.update(progress=percent, updated_at=timezone.now())

    try:
        # On the disk, not in memory: a gallery can be many gigabytes.
        with tempfile.TemporaryFile() as zip_file:
            count = write_archive(export.owner, zip_file, report)
            zip_file.seek(0)
            export.file.save("gallery.zip", File(zip_file), save=False)
        name, size = export.file.name, export.file.size
    except Exception:
        logger.exception("export %s failed", export_id)
        rows.update(
            status=GalleryExport.Status.FAILED,
            error=_("The archive could not be written. Try again later."),
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return
    done = rows.filter(status=GalleryExport.Status.RUNNING).update(
        status=GalleryExport.Status.DONE,
        progress=100,
        file=name,
        size=size,
        edits=count,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if not done and name:  # replaced while it ran: its archive is nobody's
        export.file.storage.delete(name)
    discard_expired()


@task()
def run_import(import_id: str) -> None:
    """Check and store an uploaded gallery, all or nothing; the upload goes either way."""
    job = GalleryImport.objects.select_related("owner").filter(pk=import_id).first()
    if job is None or job.status != GalleryImport.Status.QUEUED:
        return
    rows = GalleryImport.objects.filter(pk=job.pk)
    rows.update(status=GalleryImport.Status.RUNNING, updated_at=timezone.now())

    def report(percent: int) -> None:
        rows.update(progress=percent, updated_at=timezone.now())

    outcome: dict[str, object]
    try:
        with job.archive.open("rb") as archive:
            imported = import_archive(job.owner, archive, report)
        outcome = {"status": GalleryImport.Status.DONE, "progress": 100}
        outcome["edits"] = len(imported.edits)
    except ImportRefused as refused:
        outcome = {"status": GalleryImport.Status.FAILED, "error_code": refused.code}
        outcome["error"] = refused.message
    except Exception:
        logger.exception("import %s failed", import_id)
        outcome = {"status": GalleryImport.Status.FAILED, "error_code": "internal"}
        outcome["error"] = _("The archive could not be imported. Try again later.")
    finally:
        job.archive.delete(save=False)  # checked or refused, the upload is not kept
    rows.update(archive="", finished_at=timezone.now(), updated_at=timezone.now(), **outcome)
