"""What people do to their edits: the only place they are submitted, retried, canceled,
deleted and shared. The studio's pages, the JSON API and the admin all come here."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.contrib.auth.models import User
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import ApiToken
from gateway.options import DEFAULT as DEFAULT_OPTIONS
from gateway.options import RequestOptions
from imaging import ImageInfo
from imaging.types import EXTENSIONS
from providers.routing import first_transport
from worker.tasks import enqueue_on_commit, start_waiting

from .models import Edit, EditGroup, ResultImage, Share, SourceImage


def submit(
    owner: User,
    *,
    instruction: str,
    model: str,
    uploads: Sequence[tuple[UploadedFile, ImageInfo]],
    parent: ResultImage | None = None,
    options: RequestOptions = DEFAULT_OPTIONS,
    api_token: ApiToken | None = None,
    mask: File | None = None,
) -> Edit:
    """Store the edit and its originals, and queue the job once they are committed. With no
    pictures and no parent it makes a picture from the instruction alone.

    With a parent (edit again), that result is the first original, copied so the new edit
    keeps it even if the parent edit is deleted later. A mask (checked by the form) is kept
    with the first original.
    """
    originals: list[tuple[File, ImageInfo]] = [(upload, info) for upload, info in uploads]
    if parent:
        originals.insert(0, _as_upload(parent))
    with _stored_together() as saved:
        return _create_edit(
            owner,
            saved,
            instruction=instruction,
            model=model,
            originals=originals,
            parent=parent,
            options=options,
            api_token=api_token,
            mask=mask,
        )


def submit_comparison(
    owner: User,
    *,
    instruction: str,
    models: Sequence[str],
    uploads: Sequence[tuple[UploadedFile, ImageInfo]],
    parent: ResultImage | None = None,
    options: RequestOptions = DEFAULT_OPTIONS,
    api_token: ApiToken | None = None,
    mask: File | None = None,
) -> EditGroup:
    """The same pictures and instruction sent to each model: an edit per model, in one group.

    Each edit keeps its own copy of the originals, as any edit does: deleting one of them
    never takes a picture from another.
    """
    originals: list[tuple[File, ImageInfo]] = [(upload, info) for upload, info in uploads]
    if parent:
        originals.insert(0, _as_upload(parent))
    with _stored_together() as saved:
        group = EditGroup.objects.create(
            owner=owner, kind=EditGroup.Kind.COMPARISON, instruction=instruction
        )
        first: Edit | None = None
        for model in models:
            edit = _create_edit(
                owner,
                saved,
                instruction=instruction,
                model=model,
                # The first edit stores the uploads (a large one is moved, not copied); the
                # others copy what it stored.
                originals=originals if first is None else _copies_of(first),
                parent=parent,
                options=options,
                api_token=api_token,
                group=group,
                mask=mask if first is None else _mask_copy_of(first),
            )
            first = first or edit
        return group


def submit_batch(
    owner: User,
    *,
    instruction: str,
    model: str,
    uploads: Sequence[tuple[UploadedFile, ImageInfo]],
    options: RequestOptions = DEFAULT_OPTIONS,
    api_token: ApiToken | None = None,
) -> EditGroup:
    """One instruction on each picture: an edit per picture, in one group. They queue as any
    of the person's edits do, so fair use holds across batches and a batch never starves
    another person (worker/tasks.py)."""
    with _stored_together() as saved:
        group = EditGroup.objects.create(
            owner=owner, kind=EditGroup.Kind.BATCH, instruction=instruction
        )
        for upload, info in uploads:
            _create_edit(
                owner,
                saved,
                instruction=instruction,
                model=model,
                originals=[(upload, info)],
                options=options,
                api_token=api_token,
                group=group,
            )
        return group


@contextmanager
def _stored_together() -> Iterator[list[SourceImage]]:
    """One transaction for the rows; should it fail, the files written go too: nothing
    half-stored, no files without their rows."""
    saved: list[SourceImage] = []
    try:
        with transaction.atomic():
            yield saved
    except Exception:
        for source in saved:
            source.file.delete(save=False)
            if source.mask:
                source.mask.delete(save=False)
        raise


def _create_edit(
    owner: User,
    saved: list[SourceImage],
    *,
    instruction: str,
    model: str,
    originals: Sequence[tuple[File, ImageInfo]],
    parent: ResultImage | None = None,
    options: RequestOptions = DEFAULT_OPTIONS,
    api_token: ApiToken | None = None,
    group: EditGroup | None = None,
    mask: File | None = None,
) -> Edit:
    edit = Edit.objects.create(
        owner=owner,
        instruction=instruction,
        model=model,
        parent=parent,
        options=options.as_json(),
        api_token=api_token,
        group=group,
        # The API its first provider speaks, so the card can say at once whether a mask is
        # honoured; the worker writes the one that served it.
        transport=first_transport(model),
    )
    for position, (upload, info) in enumerate(originals):
        source = SourceImage(
            edit=edit,
            position=position,
            filename=(upload.name or "")[:255],
            width=info.width,
            height=info.height,
            content_type=info.content_type,
        )
        # Stored as it came (a large upload is moved, not copied); the worker removes its
        # metadata (SourceImage.write_cleaned and keep_cleaned).
        source.store("file", f"original{info.extension}", upload)
        saved.append(source)
        if mask is not None and position == 0:
            source.store("mask", "mask.png", mask)
        source.save()
    enqueue_on_commit(edit)
    return edit


def _copies_of(edit: Edit) -> list[tuple[File, ImageInfo]]:
    """The originals another edit has just stored, to store again."""
    copies: list[tuple[File, ImageInfo]] = []
    for source in edit.sources.order_by("position"):
        extension = EXTENSIONS.get(source.content_type, ".img")
        info = ImageInfo("", source.content_type, extension, source.width, source.height)
        copy = File(source.file.storage.open(source.file.name or "", "rb"), name=source.filename)
        copies.append((copy, info))
    return copies


def _mask_copy_of(edit: Edit) -> File | None:
    """The mask another edit has just stored (on its first original), to store again."""
    first = edit.sources.order_by("position").first()
    if first is None or not first.mask:
        return None
    return File(first.mask.storage.open(first.mask.name or "", "rb"), name="mask.png")


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
    with transaction.atomic():
        # Its pictures' rows are locked (on SQLite, the transaction holds the write lock)
        # before Django collects them, so that a rendition or cleaned original the worker
        # keeps meanwhile is either among what is collected, its file deleted with the rest,
        # or finds its row gone and deletes its own file: never a file that no row names.
        for pictures in (SourceImage.objects, ResultImage.objects):
            list(pictures.select_for_update().filter(edit=edit).values_list("pk", flat=True))
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


def choose_result(edit: Edit, position: int) -> bool:
    """Make the result at `position` the one that stands for the edit; False if it has none
    there. The others stay, reachable on the edit's page."""
    if not edit.results.filter(position=position).exists():
        return False
    Edit.objects.filter(pk=edit.pk).update(chosen=position)
    edit.chosen = position
    return True


def choose_winner(group: EditGroup, edit: Edit | None) -> bool:
    """Make `edit` (one of the comparison's that succeeded) its winner, or pick none; False if
    it is not one of them."""
    if edit is not None and (edit.group_id != group.pk or edit.status != Edit.Status.SUCCEEDED):
        return False
    EditGroup.objects.filter(pk=group.pk).update(winner=edit)
    group.winner = edit
    return True


def retry_failed(group: EditGroup) -> int:
    """Queue the group's failed or canceled edits again, those a retry can help (as the
    studio's Retry: Edit.can_retry); how many were."""
    retried = 0
    for edit in group.edits.filter(status__in=(Edit.Status.FAILED, Edit.Status.CANCELED)):
        if edit.can_retry:
            retried += retry(edit)
    return retried


def delete_group(group: EditGroup) -> None:
    """Delete a batch or comparison: each of its edits with their pictures, then the group."""
    with transaction.atomic():
        for edit in group.edits.all():
            delete(edit)
        group.delete()
