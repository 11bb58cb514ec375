"""Check the picture store against the database: files that are missing, files nothing names.

The store is the data folder's media or the S3 bucket, whichever the pictures are kept in:
it is listed and its files deleted through the storage (editor/picture_store.py).
"""

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.apps import apps
from django.core.files.storage import Storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models
from django.db.models import Q

from editor.models import Edit, ResultImage, SourceImage
from editor.picture_store import picture_storage, stored_files, where

# A file is written before the row that names it is committed: an upload is stored inside the
# transaction that creates its row, a result and its thumbnail just before theirs, and an
# original's cleaned copy is written while the gateway works and named only once it has
# answered (worker/run.py), which may take GAITU_TOTAL_TIMEOUT (ten minutes) per attempt.
# A file younger than this may be one of those on its way, so it is never taken for an orphan.
DEFAULT_MIN_AGE_MINUTES = 60
PICTURES: list[tuple[type[SourceImage | ResultImage], str]] = [
    (SourceImage, "original"),
    (ResultImage, "result"),
]


# The files a stored picture names: the picture, its thumbnail and its display rendition.
FILE_FIELDS = ("file", "thumbnail", "display")
# A stored picture's row as read: pk, edit, position, then the names of FILE_FIELDS.
Row = tuple[int, UUID, int, str, str, str]


@dataclass
class Missing:
    name: str
    what: str  # "file of original 1", "thumbnail of result 2"
    edit_id: UUID


class Command(BaseCommand):
    help = (
        "Check the picture store (MEDIA_ROOT, or the S3 bucket of GAITU_S3_BUCKET) against "
        "the database. Lists the stored pictures "
        "whose file or thumbnail is missing, with the edits they belong to, and the orphan "
        "files that no picture names. With --delete-orphans the orphans are deleted; a file "
        "that a picture names is never touched, nor one younger than --min-age (it may be an "
        "upload or a result being written right now). Exits with status 0 when the store is "
        "clean and 1 when anything was found, so that it can run from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete-orphans",
            action="store_true",
            help="delete the orphan files found (missing files are only reported)",
        )
        parser.add_argument(
            "--min-age",
            type=int,
            default=DEFAULT_MIN_AGE_MINUTES,
            metavar="MINUTES",
            help="leave alone files younger than this, which may still be on their way to "
            f"being named (default {DEFAULT_MIN_AGE_MINUTES})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        storage = picture_storage()
        min_age = options["min_age"] * 60
        # The rows first, then the store: a file written in between then looks like an orphan,
        # which its young age protects, rather than a row looking as if its file were gone.
        named, rows = self.named_files()
        named |= other_files()
        in_store = stored_files(storage)
        missing = self.still_missing(rows, in_store, storage)
        young = 0
        orphans: list[str] = []
        now = time.time()
        for name, modified in sorted(in_store.items()):
            if name in named:
                continue
            if now - modified < min_age:
                young += 1
            else:
                orphans.append(name)
        orphans = unnamed(orphans)  # named since the rows were read: in use after all

        self.report_missing(missing)
        deleted = 0
        for name in orphans:
            if options["delete_orphans"]:
                storage.delete(name)  # already gone is fine too
                deleted += 1
                self.stdout.write(f"Deleted orphan file: {name}")
            else:
                self.stdout.write(f"Orphan file: {name}")

        pictures = sum(len(r) for r in rows.values())
        self.stdout.write(
            f"Checked {pictures} stored pictures ({len(named)} files) "
            f"against {len(in_store)} files in {where(storage)}."
        )
        if young:
            self.stdout.write(
                f"Left alone {young} file(s) younger than {options['min_age']} minutes that no "
                "picture names yet: an upload or the worker may be writing them."
            )
        if not missing and not orphans:
            self.stdout.write(self.style.SUCCESS("The picture store is clean."))
            return
        found = []
        if missing:
            edits = len({m.edit_id for m in missing})
            found.append(f"{len(missing)} missing file(s) in {edits} edit(s)")
        if orphans:
            found.append(f"{len(orphans)} orphan file(s){' (deleted)' if deleted else ''}")
        # Found is found, even when the orphans are gone now: cron tells someone either way.
        raise CommandError(f"Found {' and '.join(found)}.", returncode=1)

    def named_files(self) -> tuple[set[str], dict[str, list[Row]]]:
        """Every file name a stored picture gives, and the rows, by kind of picture."""
        named: set[str] = set()
        rows: dict[str, list[Row]] = {}
        for model, label in PICTURES:
            fields = ("pk", "edit_id", "position", *FILE_FIELDS)
            rows[label] = list(model.objects.values_list(*fields).iterator())
            for _pk, _edit, _position, *names in rows[label]:
                named.update(name for name in names if name)
        return named, rows

    def still_missing(
        self,
        rows: dict[str, list[Row]],
        in_store: dict[str, float],
        storage: Storage,
    ) -> list[Missing]:
        """The pictures whose file or thumbnail is not in the store, as their rows say now.

        A row read a moment ago may since have been deleted with its files, or moved to its
        cleaned copy (SourceImage.keep_cleaned): those are asked again before being reported.
        """
        missing: list[Missing] = []
        for model, label in PICTURES:
            for pk, edit_id, position, *names in rows[label]:
                if all(not name or name in in_store for name in names):
                    continue
                now = model.objects.filter(pk=pk).values_list(*FILE_FIELDS).first()
                if now is None:
                    continue
                for name, part in zip(now, FILE_FIELDS, strict=True):
                    if name and not storage.exists(name):
                        what = f"{part} of {label} {position + 1}"
                        missing.append(Missing(name, what, edit_id))
        return missing

    def report_missing(self, missing: list[Missing]) -> None:
        edits = Edit.objects.select_related("owner").in_bulk({m.edit_id for m in missing})
        for m in missing:
            edit = edits.get(m.edit_id)
            of = f"edit {m.edit_id}"
            if edit is not None:
                of += f" of {edit.owner.get_username()}, “{edit.instruction[:40]}”"
            self.stdout.write(f"Missing file: {m.name} ({m.what}, {of})")


def unnamed(names: list[str], chunk: int = 500) -> list[str]:
    """Those of the names that no stored picture names, asked of the database afresh."""
    in_use: set[str] = set()
    for start in range(0, len(names), chunk):
        part = names[start : start + chunk]
        for model, _label in PICTURES:
            rows = model.objects.filter(
                Q(file__in=part) | Q(thumbnail__in=part) | Q(display__in=part)
            )
            for names in rows.values_list(*FILE_FIELDS):
                in_use.update(names)
    in_use |= other_files()
    return [name for name in names if name not in in_use]


def other_files() -> set[str]:
    """The files other models keep in the store (a gallery export, an import's upload): not
    pictures, so never missing pictures, but not orphans either."""
    names: set[str] = set()
    for model in apps.get_models():
        if model in (SourceImage, ResultImage):
            continue
        fields = [f.name for f in model._meta.get_fields() if isinstance(f, models.FileField)]
        if fields:
            for values in model._default_manager.values_list(*fields).iterator():
                names.update(value for value in values if value)
    return names
