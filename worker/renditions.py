"""The files an edit's run writes beside asking the gateway: the originals' cleaned copies and
display renditions while it works, and the results with their thumbnails and renditions after."""

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from PIL import Image

from editor.models import Edit, ResultImage, SourceImage
from gateway.chat.reply import describe_image_ref
from gateway.fetch import FetchedImage
from imaging import make_thumbnail
from imaging.shape import decode_still, display_of
from imaging.types import EXTENSIONS

from .phases import TURNS

logger = logging.getLogger(__name__)


def write_cleaned(sources: list[SourceImage], cleaned: list[tuple[SourceImage, str]]) -> None:
    """Write each original's cleaned copy as a file of its own; no database work."""
    for source in sources:
        if not source.metadata_removed:
            cleaned.append((source, source.write_cleaned()))


def write_displays(
    stills: list[tuple[SourceImage, Image.Image]], displays: list[tuple[SourceImage, str, int]]
) -> None:
    """Write each original's display rendition as a file of its own; no database work.

    Each still is let go as soon as its rendition is written (a decoded picture is megabytes,
    and the gateway may take minutes)."""
    while stills:
        source, still = stills.pop(0)
        displays.append((source, *write_display(source, still)))
        del still


def write_display(picture: SourceImage | ResultImage, still: Image.Image) -> tuple[str, int]:
    """The display rendition of a decoded still, written as a file of its own: name, bytes."""
    data, content_type = display_of(still)
    content, storage = ContentFile(data), picture.display.storage
    name = picture.display.field.generate_filename(picture, f"display{EXTENSIONS[content_type]}")
    try:
        return storage.save(name, content), content.size
    except OSError:  # as StoredImage.store: a write that fails leaves nothing of itself
        storage.delete(name)
        raise


def store_results(
    edit: Edit, fetched: list[tuple[str, FetchedImage]]
) -> list[tuple[ResultImage, bytes]]:
    """Store the results with their thumbnails and succeed; each result with its bytes, for
    its display rendition (made after: store_displays)."""
    results: list[ResultImage] = []
    stored: list[tuple[ResultImage, bytes]] = []
    try:
        for position, (ref, image) in enumerate(fetched):
            result = ResultImage(
                edit=edit,
                position=position,
                width=image.width,
                height=image.height,
                content_type=image.content_type,
                source_url=describe_image_ref(ref),
            )
            extension = EXTENSIONS.get(image.content_type, ".img")
            results.append(result)  # before its files: a failed write leaves none (store)
            result.store("file", f"result{extension}", ContentFile(image.data))
            # Before the edit succeeds, so on the way to the card: a JPEG is decoded for it
            # at 1/4 scale (draft), a few milliseconds, where the display rendition's decode
            # is the whole picture.
            thumbnail = make_thumbnail(ContentFile(image.data))
            result.store("thumbnail", "thumb.webp", ContentFile(thumbnail))
            stored.append((result, image.data))
        with transaction.atomic():
            ResultImage.objects.bulk_create(results)
            if not edit.succeed():
                raise Superseded
    except Exception as exc:
        for result in results:
            result.file.delete(save=False)
            result.thumbnail.delete(save=False)
        if not isinstance(exc, Superseded):
            raise
        return []
    return stored


def store_displays(edit: Edit, results: list[tuple[ResultImage, bytes]]) -> None:
    """Write and keep each result's display rendition. Without one its card shows the full
    picture, so a failure here is logged, and the edit stays a success.

    Written in a thread of lower priority (and kept from this one, which holds the edit's
    database connection): the moment the edit has succeeded, its card is asked for and its
    picture loaded, and on two cores this rendition's 0.1 s of decoding and encoding would
    otherwise take turns with the web process serving them."""
    for result, data in results:
        try:
            result.keep_display(*BACKGROUND.submit(_write_display_of, result, data).result())
        except (OSError, SyntaxError, ValueError, DatabaseError):
            logger.warning("edit %s: display rendition not written", edit.pk, exc_info=True)


def _write_display_of(result: ResultImage, data: bytes) -> tuple[str, int]:
    return write_display(result, decode_still(ContentFile(data)))


# How much nicer than the edit's own thread the threads of renditions are (Linux counts
# niceness per thread): they yield the cores to what a person waits for.
BACKGROUND_NICENESS = 10


def in_background() -> None:
    """Lower this thread's priority (a ThreadPoolExecutor's initializer). It cannot be raised
    again without privileges, so only for threads that do nothing else."""
    thread = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, now + BACKGROUND_NICENESS))
    except OSError:  # not allowed here (a container's policy): at the same priority, then
        pass


# The threads every edit of this process hands its renditions and cleaned copies to. Shared,
# rather than a thread for each edit, which it kept while the gateway worked: 410 threads at
# the in-flight bench's peak, against 264 now. As many as the edits that take a picture turn
# at once (worker/phases.py), so that no turn waits here behind another edit's work.
BACKGROUND = ThreadPoolExecutor(TURNS, thread_name_prefix="renditions", initializer=in_background)


class Superseded(Exception):
    """The edit was canceled (or otherwise moved on) while its results were being saved."""
