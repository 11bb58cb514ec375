"""A person's gallery as one ZIP: originals, results, and an index in JSON and CSV.

Written file by file into a file object, so memory stays flat however large the gallery:
pictures are copied in blocks and stored as they are (ZIP_STORED), as JPEG, PNG, WebP and GIF
are compressed already; only the two indexes are deflated.
"""

import csv
import io
import json
import logging
import shutil
import zipfile
from collections.abc import Callable
from typing import IO, Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from editor.models import Edit, ResultImage, SourceImage
from editor.picture_store import open_stream
from imaging import InvalidImage
from imaging.types import EXTENSIONS

logger = logging.getLogger(__name__)

FORMAT = "gaitu-gallery"  # what the importer looks for: this archive is Gaitu's
VERSION = 1
INDEX_JSON = "gaitu-index.json"
INDEX_CSV = "gaitu-index.csv"
FOLDERS = {"originals": "originals", "results": "results", "masks": "masks"}
# Only finished edits: a queued or running one has no stable result to carry.
EXPORTED_STATUSES = (Edit.Status.SUCCEEDED, Edit.Status.FAILED, Edit.Status.CANCELED)
CSV_COLUMNS = [
    "id", "instruction", "model", "status", "created", "finished",
    "shared", "show_original", "show_instruction",
    "originals", "original_sizes", "results", "result_sizes",
    "options", "chosen", "group", "group_kind", "winner",
]  # fmt: skip
BLOCK = 2**20


def exported_edits(owner: User) -> QuerySet[Edit]:
    return (
        Edit.objects.filter(owner=owner, status__in=EXPORTED_STATUSES)
        .select_related("share", "group")
        .prefetch_related("sources", "results")
        .order_by("created_at")
    )


def write_archive(
    owner: User, out: IO[bytes], report: Callable[[int], None] = lambda percent: None
) -> int:
    """Write the owner's gallery as a ZIP into `out`; the number of edits in it.

    `report` is told the percent done every few pictures (never 100: the caller says done).
    """
    edits = list(exported_edits(owner))
    total = sum(len(edit.sources.all()) + len(edit.results.all()) for edit in edits) or 1
    written = 0
    entries: list[dict[str, Any]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for edit in edits:
            entry = _entry(edit)
            chosen = edit.chosen_result
            for kind, images in (
                ("originals", edit.sources.all()),
                ("results", edit.results.all()),
            ):
                for image in images:
                    name = f"{FOLDERS[kind]}/{edit.pk}-{image.position + 1}"
                    name += EXTENSIONS.get(image.content_type, ".img")
                    try:
                        _write_picture(archive, name, image, edit)
                    # Gone from the disk, or not whole: the rest of the gallery still goes.
                    except (OSError, InvalidImage):
                        logger.warning("export of %s: %s is missing", owner, image, exc_info=True)
                        continue
                    entry[kind].append(
                        {
                            "file": name,
                            "width": image.width,
                            "height": image.height,
                            "content_type": image.content_type,
                        }
                    )
                    if kind == "results" and image == chosen:
                        # Its place among the results written, which a missing one shifts.
                        entry["chosen"] = len(entry["results"]) - 1
                    written += 1
                    if written % 10 == 0:
                        report(min(99, written * 100 // total))
            if (masked := edit.masked_source) is not None and entry["originals"]:
                entry["mask"] = _write_mask(archive, masked, edit)
            entries.append(entry)
        index = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": timezone.now().isoformat(),
            "username": owner.get_username(),
            "edits": entries,
        }
        text = json.dumps(index, ensure_ascii=False, indent=2)
        archive.writestr(INDEX_JSON, text, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(INDEX_CSV, _csv(entries), compress_type=zipfile.ZIP_DEFLATED)
    return len(entries)


def _entry(edit: Edit) -> dict[str, Any]:
    share = getattr(edit, "share", None)
    return {
        "id": str(edit.pk),
        "instruction": edit.instruction,
        "model": edit.model,
        "status": edit.status,
        "created": edit.created_at.isoformat(),
        "finished": edit.finished_at.isoformat() if edit.finished_at else None,
        "error": {"code": edit.error_code, "message": edit.error_message}
        if edit.error_code
        else None,
        # Whether it was shared and how, never the token: the link belongs to this installation.
        "share": {
            "shared": share is not None,
            "show_original": share.show_original if share else False,
            "show_instruction": share.show_instruction if share else False,
        },
        # What was asked beyond the instruction (gateway.options.RequestOptions.as_json()).
        "options": edit.options,
        # Which of "results" stands for the edit (an index into them), null with none.
        "chosen": None,
        # The batch or comparison it was part of: the same "id" for each edit of it, and
        # whether this edit is the comparison's winner.
        "group": {
            "id": str(edit.group.pk),
            "kind": edit.group.kind,
            "instruction": edit.group.instruction,
            "winner": edit.group.winner_id == edit.pk,
        }
        if edit.group
        else None,
        "originals": [],
        "results": [],
        # The area to change painted on the first original: a PNG of its size, transparent
        # where it should change (editor SourceImage.mask); null without one.
        "mask": None,
        "provider": edit.provider,
        "transport": edit.transport,
    }


def _write_mask(archive: zipfile.ZipFile, source: SourceImage, edit: Edit) -> str | None:
    """The mask as masks/<edit>-1.png; None (and a warning) when its file is gone."""
    name = f"{FOLDERS['masks']}/{edit.pk}-1.png"
    info = zipfile.ZipInfo(name, date_time=timezone.localtime(edit.created_at).timetuple()[:6])
    info.external_attr = 0o644 << 16
    try:
        with source.mask.open("rb") as stored:
            archive.writestr(info, stored.read())
    except OSError:
        logger.warning("export: the mask of %s is missing", edit.pk, exc_info=True)
        return None
    return name


def _write_picture(
    archive: zipfile.ZipFile, name: str, image: SourceImage | ResultImage, edit: Edit
) -> None:
    info = zipfile.ZipInfo(name, date_time=timezone.localtime(edit.created_at).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    if not image.file:
        raise FileNotFoundError(f"{image} has no file")
    if isinstance(image, SourceImage) and not image.metadata_removed:
        # Not cleaned by its worker yet: the metadata never leaves, as in the media views.
        archive.writestr(info, image.cleaned_bytes())
        return
    # Block by block as it comes, from a bucket too (its file would be read whole first).
    stored = open_stream(image.file.storage, image.file.name or "").body
    with stored, archive.open(info, "w", force_zip64=True) as entry:
        shutil.copyfileobj(stored, entry, BLOCK)


def _as_text(cell: str) -> str:
    """A cell a spreadsheet shows as text: one starting with =, +, - or @ would be taken for
    a formula (an instruction is anyone's words), so it gets the customary leading quote."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        share = entry["share"]
        writer.writerow(
            [
                entry["id"],
                _as_text(entry["instruction"]),
                _as_text(entry["model"]),
                entry["status"],
                entry["created"],
                entry["finished"] or "",
                share["shared"],
                share["show_original"],
                share["show_instruction"],
                " ".join(p["file"] for p in entry["originals"]),
                " ".join(f"{p['width']}x{p['height']}" for p in entry["originals"]),
                " ".join(p["file"] for p in entry["results"]),
                " ".join(f"{p['width']}x{p['height']}" for p in entry["results"]),
                json.dumps(entry["options"], sort_keys=True) if entry["options"] else "",
                "" if entry["chosen"] is None else entry["chosen"],
                group["id"] if (group := entry["group"]) else "",
                group["kind"] if group else "",
                group["winner"] if group else "",
            ]
        )
    return out.getvalue()
