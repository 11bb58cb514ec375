"""What people do to their edits: the only place they are submitted, retried, canceled,
deleted and shared. The studio's pages, the JSON API and the admin all come here."""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from imaging import ImageInfo
from imaging.types import EXTENSIONS
from worker.tasks import enqueue_on_commit, start_waiting

from .models import Edit, ResultImage, Share, SourceImage


def submit(
    owner: User,
    *,
    instruction: str,
    model: str,
    uploads: Sequence[tuple[UploadedFile, ImageInfo]],
    parent: ResultImage | None = None,
) -> Edit:
    """Store the edit and its originals, and queue the job once they are committed.

    With a parent (edit again), that result is the first original, copied so the new edit
    keeps it even if the parent edit is deleted later.
    """
    saved: list[SourceImage] = []
    try:
        with transaction.atomic():
            edit = Edit.objects.create(
                owner=owner, instruction=instruction, model=model, parent=parent
            )
            originals: list[tuple[File, ImageInfo]] = [(upload, info) for upload, info in uploads]
            if parent:
                originals.insert(0, _as_upload(parent))
            for position, (upload, info) in enumerate(originals):
                source = SourceImage(
                    edit=edit,
                    position=position,
                    filename=(upload.name or "")[:255],
                    width=info.width,
                    height=info.height,
                    content_type=info.content_type,
                )
                # Stored as it came (a large upload is moved, not copied); the worker removes
                # its metadata (SourceImage.write_cleaned and keep_cleaned).
                source.store("file", f"original{info.extension}", upload)
                saved.append(source)
                source.save()
            enqueue_on_commit(edit)
    except Exception:
        for source in saved:  # nothing half-stored: no files without their rows
            source.file.delete(save=False)
        raise
    return edit


def _as_upload(result: ResultImage) -> tuple[ContentFile, ImageInfo]:
    with result.file.open("rb") as stored:
        data = ContentFile(stored.read(), name=f"gaitu-{str(result.edit_id)[:8]}-edited")
    extension = EXTENSIONS.get(result.content_type, ".img")
    info = ImageInfo("", result.content_type, extension, result.width, result.height)
    return data, info


def retry(edit: Edit) -> bool:
    """Queue a failed or canceled edit again with the same originals; False if it is neither."""
    if not edit.requeue():
        return False
    enqueue_on_commit(edit)
    return True


def cancel(edit: Edit) -> bool:
    """Stop a queued or running edit; False if it had already finished.

    A queued edit that was ahead of others of its owner gives them its turn.
    """
    if not edit.cancel():
        return False
    start_waiting(edit.owner_id)
    return True


def delete(edit: Edit) -> None:
    """Delete the edit and its pictures; a running edit's worker lets go first."""
    cancel(edit)
    edit.delete()  # its pictures' files go once the delete commits (editor/signals.py)


def share(edit: Edit, *, show_original: bool, show_instruction: bool) -> tuple[Share, bool] | None:
    """Make (or update) the public link of a finished edit: (share, created), or None when
    the edit has no result to share."""
    if edit.status != Edit.Status.SUCCEEDED:
        return None
    return Share.objects.update_or_create(
        edit=edit,
        defaults={"show_original": show_original, "show_instruction": show_instruction},
    )


def unshare(edit: Edit) -> None:
    """Revoke the public link: its token answers 404 from now on."""
    Share.objects.filter(edit=edit).delete()
