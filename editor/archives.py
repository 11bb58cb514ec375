"""A batch's results as one ZIP, written while it is sent.

Nothing is built whole first, neither in memory nor on the disk: each picture is copied from
the store a block at a time into the archive, and what the archive has written so far is
handed on after every block. Pictures are stored as they are (ZIP_STORED): JPEG, PNG, WebP and
GIF are compressed already. The ZIP's sizes then follow each picture (a data descriptor), as
a writer that cannot go back must do; every unzip tool reads that.
"""

import logging
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from django.core.files.storage import Storage
from django.utils import timezone

from imaging.types import EXTENSIONS

from .models import Edit, EditGroup
from .picture_store import open_stream

logger = logging.getLogger(__name__)

BLOCK = 2**18
# What a file name in the archive may not hold on some system: separators, Windows' reserved
# characters and control characters.
UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
STEM_MAX = 80


@dataclass(frozen=True)
class Member:
    """A picture to put in the archive: its name there, where it is stored, and its date."""

    name: str
    storage_name: str
    storage: Storage
    made_at: datetime


def batch_members(group: EditGroup) -> list[Member]:
    """Each edit's chosen result, named by the edit's place in the batch and its original's
    file name (03-beach-edited.png); edits with no result are left out.

    Read from the database here, before anything is sent: the archive's writing then touches
    only the store.
    """
    edits = list(group.edits.order_by("created_at").prefetch_related("sources", "results"))
    width = max(2, len(str(len(edits))))
    members = []
    for place, edit in enumerate(edits, start=1):
        result = edit.chosen_result
        if result is None or not result.file:
            continue
        sources = edit.sources.all()
        stem = original_stem(sources[0].filename if sources else "")
        extension = EXTENSIONS.get(result.content_type, ".img")
        members.append(
            Member(
                name=f"{place:0{width}d}-{stem}-edited{extension}",
                storage_name=result.file.name or "",
                storage=result.file.storage,
                made_at=edit.finished_at or edit.created_at,
            )
        )
    return members


def original_stem(filename: str) -> str:
    """The uploaded file's name without its folder and extension, safe in any unzip tool."""
    stem = PurePath(filename.replace("\\", "/")).stem
    stem = UNSAFE_IN_NAMES.sub("-", stem).strip(" .-")
    return stem[:STEM_MAX] or "picture"


def stream_zip(members: Iterable[Member]) -> Iterator[bytes]:
    """The ZIP of these pictures, a block at a time. A picture gone from the store (behind
    Gaitu's back) is left out: the others still go, as in the gallery's export."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for member in members:
            try:
                stored = open_stream(member.storage, member.storage_name).body
            except OSError:
                logger.warning("batch archive: %s is missing", member.storage_name, exc_info=True)
                continue
            info = zipfile.ZipInfo(
                member.name, date_time=timezone.localtime(member.made_at).timetuple()[:6]
            )
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with stored, archive.open(info, "w") as entry:
                while block := stored.read(BLOCK):
                    entry.write(block)
                    yield from sink.take()
            yield from sink.take()
    yield from sink.take()


def has_results(group: EditGroup) -> bool:
    return Edit.objects.filter(group=group, results__isnull=False).exists()


class _Sink:
    """Where the archive writes: it keeps the bytes only until they are taken. It cannot seek,
    so zipfile writes each entry's sizes after its data."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> Iterator[bytes]:
        """What was written since the last take, if anything (an empty block is not sent)."""
        if self._parts:
            data = b"".join(self._parts)
            self._parts.clear()
            yield data
