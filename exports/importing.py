"""Bringing a Gaitu gallery ZIP (exports.archive) into a person's gallery: all of it, or none.

In the background (exports.tasks.run_import), within limits (IMPORT_MAX_MB,
IMPORT_MAX_PICTURES): every picture is checked (imaging.inspect_upload), cleaned of metadata
and given a thumbnail, which for a large gallery takes minutes, longer than a request should
wait behind a proxy. The request only stores the upload; the person watches its progress and
reads the verdict, naming the picture at fault, on the account page or at GET /imports/{id}.

All or nothing, with a short transaction: every picture is checked and written first (the
files, under new random names), then all the rows are created in one transaction; if anything
fails, the files written so far are deleted. SQLite has one write lock for everyone, so it is
never held while pictures are read.
"""

import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, Literal, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field, ValidationError

from editor.failures import picture_problem
from editor.limits import MB, stored_bytes
from editor.models import Edit, EditGroup, ResultImage, SourceImage
from gateway.options import RequestOptions
from imaging import InvalidImage, clean_original, inspect_upload, thumbnail_of
from imaging.masks import inspect_mask
from imaging.shape import decode_still, display_of
from imaging.types import EXTENSIONS

from .archive import FORMAT, INDEX_JSON, VERSION

IMPORT_MAX_MB: int = getattr(settings, "GAITU_IMPORT_MAX_MB", 500)
IMPORT_MAX_PICTURES: int = getattr(settings, "GAITU_IMPORT_MAX_PICTURES", 2000)
INDEX_MAX_BYTES = 50 * MB


class ImportRefused(Exception):
    """Why an archive was not imported: a code for programs, a sentence for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- The index, as exports.archive writes it ---------------------------------------------


class Picture(BaseModel):
    file: str = Field(max_length=300)


class ShareState(BaseModel):
    shared: bool = False
    show_original: bool = False
    show_instruction: bool = False


class Failure(BaseModel):
    code: str = Field("", max_length=40)
    message: str = Field("", max_length=4000)


class Membership(BaseModel):
    """The batch or comparison an edit was part of; its edits share the id."""

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["batch", "comparison"]
    instruction: str = Field("", max_length=4000)
    winner: bool = False


class IndexedEdit(BaseModel):
    instruction: str = Field(min_length=1, max_length=4000)
    model: str = Field("", max_length=100)
    status: Literal["succeeded", "failed", "canceled"]
    created: datetime
    finished: datetime | None = None
    error: Failure | None = None
    share: ShareState = ShareState()
    # None for a picture made from the instruction alone (a generation).
    originals: list[Picture] = []
    results: list[Picture] = []
    # From archives of before options, several results and groups, these are left out.
    options: dict[str, object] = {}
    chosen: int | None = Field(None, ge=0)
    group: Membership | None = None
    # The mask of the first original, a file of the archive (from archives of before masks,
    # none).
    mask: str | None = Field(None, max_length=300)
    provider: str = Field("", max_length=60)
    transport: Literal["", "chat", "images", "gemini"] = ""


class Index(BaseModel):
    format: Literal["gaitu-gallery"]
    version: Literal[1]
    edits: list[IndexedEdit]


@dataclass
class Imported:
    edits: list[Edit]


def too_large_message() -> str:
    return _("The archive is larger than %(limit)d MB, the most Gaitu imports at once.") % {
        "limit": IMPORT_MAX_MB
    }


def import_archive(
    owner: User, upload: File, report: Callable[[int], None] = lambda percent: None
) -> Imported:
    """Add the archive's edits to the owner's gallery, with new ids; ImportRefused if not."""
    if (upload.size or 0) > IMPORT_MAX_MB * MB:
        raise ImportRefused("too_large", too_large_message())
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportRefused("not_a_zip", _("This file is not a ZIP archive.")) from None
    with archive:
        members = {info.filename: info for info in archive.infolist()}
        for name in members:
            if not _safe_name(name):
                message = _("The archive holds a file named “%(name)s”, which is not allowed.")
                raise ImportRefused("unsafe_name", message % {"name": name[:200]})
        index = _read_index(archive, members)
        pictures = [p.file for edit in index.edits for p in (*edit.originals, *edit.results)]
        pictures += [edit.mask for edit in index.edits if edit.mask and edit.originals]
        _check_pictures(pictures, members, owner)
        return _store(owner, archive, index, report)


def _safe_name(name: str) -> bool:
    """No absolute paths, no climbing out (zip-slip), no Windows separators or drives."""
    path = PurePosixPath(name)
    return not (
        not name
        or "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or ".." in path.parts
        or ":" in (path.parts[0] if path.parts else "")
    )


def _not_gaitu() -> ImportRefused:
    return ImportRefused(
        "not_gaitu", _("This ZIP is not a gallery exported from Gaitu: its index is missing.")
    )


def _read_index(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> Index:
    info = members.get(INDEX_JSON)
    if info is None or info.file_size > INDEX_MAX_BYTES:
        raise _not_gaitu()
    try:
        data = json.loads(archive.read(info))
    except (ValueError, zipfile.BadZipFile, OSError, RuntimeError):
        raise _not_gaitu() from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _not_gaitu()
    if data.get("version") != VERSION:
        message = _("This gallery was exported by a newer Gaitu; update this one to import it.")
        raise ImportRefused("unsupported_version", message)
    try:
        return Index.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        message = _("The archive's index is not valid (at %(where)s).") % {"where": where}
        raise ImportRefused("invalid_index", message) from None


def _check_pictures(pictures: list[str], members: dict[str, zipfile.ZipInfo], owner: User) -> None:
    """What can be said from the archive's directory, before any picture is read."""
    if len(pictures) > IMPORT_MAX_PICTURES:
        message = _(
            "The archive holds more than %(limit)d pictures, the most Gaitu imports at once."
        )
        raise ImportRefused("too_many", message % {"limit": IMPORT_MAX_PICTURES})
    if len(set(pictures)) != len(pictures):
        raise ImportRefused("invalid_index", _("The archive's index names a picture twice."))
    total = 0
    for name in pictures:
        info = members.get(name)
        if info is None:
            message = _("The archive's index names %(name)s, which is not in the archive.")
            raise ImportRefused("missing_picture", message % {"name": name[:200]})
        total += info.file_size
    # The sizes the directory claims: the reads below stop at them (a ZIP bomb lies here).
    if total > IMPORT_MAX_MB * MB:
        raise ImportRefused("too_large", too_large_message())
    quota = settings.GAITU_STORAGE_QUOTA_MB * MB
    if quota and stored_bytes(owner) + total > quota:
        message = _("These pictures would not fit in your storage quota. Delete some edits first.")
        raise ImportRefused("quota_exceeded", message)


def _store(
    owner: User, archive: zipfile.ZipFile, index: Index, report: Callable[[int], None]
) -> Imported:
    edits: list[Edit] = []
    images: list[SourceImage | ResultImage] = []
    # New groups, by the id the archive gives them; and each one's winner, if it has one.
    groups: dict[str, EditGroup] = {}
    winners: dict[str, Edit] = {}
    total = sum(len(entry.originals) + len(entry.results) for entry in index.edits) or 1
    try:
        for entry in index.edits:
            report(min(99, len(images) * 100 // total))
            edit = _new_edit(owner, entry)
            if entry.group:
                edit.group = _group_of(owner, entry.group, entry, groups)
                # Only a comparison's edit that succeeded can win (as editor.services says).
                if (
                    entry.group.winner
                    and entry.group.kind == "comparison"
                    and entry.status == "succeeded"
                ):
                    winners[entry.group.id] = edit
            edits.append(edit)
            for position, picture in enumerate(entry.originals):
                images.append(
                    _picture(archive, picture.file, SourceImage(edit=edit, position=position))
                )
                if position == 0 and entry.mask:
                    _mask(archive, entry.mask, cast(SourceImage, images[-1]))
            for position, picture in enumerate(entry.results):
                images.append(
                    _picture(archive, picture.file, ResultImage(edit=edit, position=position))
                )
        with transaction.atomic():
            EditGroup.objects.bulk_create(groups.values())
            Edit.objects.bulk_create(edits)
            for key, winner in winners.items():
                EditGroup.objects.filter(pk=groups[key].pk).update(winner=winner)
            SourceImage.objects.bulk_create([i for i in images if isinstance(i, SourceImage)])
            ResultImage.objects.bulk_create([i for i in images if isinstance(i, ResultImage)])
    except BaseException:
        for image in images:  # nothing half-stored: no files without their rows
            masks = [image.mask] if isinstance(image, SourceImage) else []
            for stored in (image.file, image.thumbnail, image.display, *masks):
                if stored.name:
                    stored.storage.delete(stored.name)
        raise
    # Share links are not carried over: a token belongs to the installation that made it.
    return Imported(edits)


def _new_edit(owner: User, entry: IndexedEdit) -> Edit:
    error = entry.error or Failure(code="", message="")
    succeeded = entry.status == "succeeded"
    if succeeded and not entry.results:
        raise ImportRefused(
            "invalid_index", _("The archive's index has a succeeded edit without a result.")
        )
    # The chosen result by its index among the results, which become positions 0, 1, …
    chosen = entry.chosen if entry.chosen is not None and entry.chosen < len(entry.results) else 0
    return Edit(
        owner=owner,
        instruction=entry.instruction,
        model=entry.model,
        # What this Gaitu does not understand is dropped, as from any stored edit.
        options=RequestOptions.from_json(entry.options).as_json(),
        chosen=chosen,
        status=entry.status,
        stage=Edit.Stage.DONE if succeeded else Edit.Stage.QUEUED,
        progress=100 if succeeded else None,
        error_code=error.code,
        error_message=error.message,
        created_at=entry.created,
        queued_at=entry.created,
        finished_at=entry.finished or entry.created,
        provider=entry.provider,
        transport=entry.transport,
    )


def _group_of(
    owner: User, membership: Membership, entry: IndexedEdit, groups: dict[str, EditGroup]
) -> EditGroup:
    """The new group for the archive's group id: made (not saved) with its first edit."""
    group = groups.get(membership.id)
    if group is None:
        group = groups[membership.id] = EditGroup(
            owner=owner,
            kind=membership.kind,
            instruction=membership.instruction or entry.instruction,
            created_at=entry.created,
        )
    elif group.kind != membership.kind:
        raise ImportRefused(
            "invalid_index", _("The archive's index puts an edit in a group of another kind.")
        )
    return group


def _picture(
    archive: zipfile.ZipFile, name: str, image: SourceImage | ResultImage
) -> SourceImage | ResultImage:
    """Check one picture of the archive, and write it, its thumbnail and its display rendition
    (the row not saved)."""
    limit = settings.GAITU_UPLOAD_MAX_MB * MB
    # Results can be larger than the uploads that made them: twice the upload limit.
    max_bytes = limit * 2 if isinstance(image, ResultImage) else limit
    with tempfile.SpooledTemporaryFile(max_size=2 * MB) as data:
        _extract(archive, name, data, max_bytes)
        try:
            info = inspect_upload(data, max_bytes=max_bytes, max_pixels=settings.GAITU_MAX_PIXELS)
            still = decode_still(data)  # once, for both renditions
            thumbnail, (display, display_type) = thumbnail_of(still), display_of(still)
            del still
            data.seek(0)
            content: IO[bytes] = data
            if isinstance(image, SourceImage):
                # Stored without metadata, as the worker stores every original.
                content = ContentFile(clean_original(data, info.content_type))
                image.metadata_removed = True
                image.filename = PurePosixPath(name).name
        except InvalidImage as exc:
            raise _bad_picture(name, picture_problem(exc)) from None
        except Exception:  # Pillow raises many types on hostile input
            raise _bad_picture(name, _("The picture is damaged or incomplete.")) from None
        image.width, image.height, image.content_type = info.width, info.height, info.content_type
        image.store("file", f"picture{info.extension}", File(content))
        image.store("thumbnail", "thumb.webp", ContentFile(thumbnail))
        image.store("display", f"display{EXTENSIONS[display_type]}", ContentFile(display))
    return image


def _mask(archive: zipfile.ZipFile, name: str, original: SourceImage) -> None:
    """Check the first original's mask (a PNG of its size), and write it (the row not saved)."""
    with tempfile.SpooledTemporaryFile(max_size=2 * MB) as data:
        _extract(archive, name, data, settings.GAITU_UPLOAD_MAX_MB * MB)
        try:
            inspect_mask(data, (original.width, original.height))
        except InvalidImage as exc:
            raise _bad_picture(name, picture_problem(exc)) from None
        data.seek(0)
        original.store("mask", "mask.png", File(data))


def _extract(archive: zipfile.ZipFile, name: str, out: IO[bytes], max_bytes: int) -> None:
    """Copy a member out in blocks, stopping past max_bytes whatever the directory claims."""
    copied = 0
    try:
        with archive.open(name) as member:
            while block := member.read(MB):
                copied += len(block)
                if copied > max_bytes:
                    message = _("The picture is larger than %(limit)d MB.") % {
                        "limit": max_bytes // MB
                    }
                    raise _bad_picture(name, message)
                out.write(block)
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError):
        raise _bad_picture(name, _("It cannot be read from the archive.")) from None
    out.seek(0)


def _bad_picture(name: str, problem: str) -> ImportRefused:
    message = _("%(name)s in the archive: %(problem)s") % {"name": name[:200], "problem": problem}
    return ImportRefused("invalid_picture", message)
