"""The path of one edit: store the originals, ask the gateway, keep what it made."""

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from . import demo, fetch
from .fetch import FetchedImage, FetchError, fetch_image
from .imaging import ImageInfo, make_thumbnail, shape_with_still, thumbnail_of
from .models import Edit, ResultImage, SourceImage
from .reply import FAILURE_CODES, Failure, ParsedReply, describe_image_ref
from .upstream import (
    Gateway,
    UpstreamFailure,
    build_payload,
    data_url,
    list_models,
    request_edit_with_retries,
)
from .upstream import failure as upstream_failure

logger = logging.getLogger(__name__)

STAGE_OF_REPLY = {
    "queued": Edit.Stage.QUEUED,
    "generating": Edit.Stage.GENERATING,
    "done": Edit.Stage.DOWNLOADING,
}
RESULT_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
}


def configured_gateway() -> Gateway:
    """The gateway from settings, or the built-in demo gateway when no API key is set."""
    if settings.GAITU_DEMO:
        base_url, api_key = demo.ensure_running(), "demo"
    else:
        base_url, api_key = (
            settings.GAITU_API_BASE or "https://api.openai.com",
            settings.GAITU_API_KEY,
        )
    return Gateway(
        base_url=base_url,
        api_key=api_key,
        stream=settings.GAITU_STREAM,
        max_tokens=settings.GAITU_MAX_TOKENS,
        image_detail=settings.GAITU_IMAGE_DETAIL,
        connect_timeout=settings.GAITU_CONNECT_TIMEOUT,
        read_timeout=settings.GAITU_READ_TIMEOUT,
        total_timeout=settings.GAITU_TOTAL_TIMEOUT,
        extra_body=settings.GAITU_EXTRA_BODY,
    )


GATEWAY_MODELS_CACHE = "gateway-models"


def offered_models(*, ask_gateway: bool = False) -> list[str]:
    """The configured models first, then what the gateway itself lists (cached ten minutes).

    Only a request that may wait (the picker's own, loaded after the page) asks the gateway;
    everything else uses what is cached.
    """
    listed = cache.get(GATEWAY_MODELS_CACHE)
    if listed is None and ask_gateway and not settings.GAITU_DEMO:
        listed = list_models(configured_gateway())
        cache.set(GATEWAY_MODELS_CACHE, listed, 600 if listed else 60)
    extra = [name for name in listed or [] if name not in settings.GAITU_MODELS]
    return [*settings.GAITU_MODELS, *extra]


def submit_edit(
    owner,
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
    from .tasks import enqueue_on_commit

    saved: list[SourceImage] = []
    try:
        with transaction.atomic():
            edit = Edit.objects.create(
                owner=owner, instruction=instruction, model=model, parent=parent
            )
            originals = [(upload, info) for upload, info in uploads]
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
                # its metadata before anything else (SourceImage.remove_metadata).
                source.file.save(f"original{info.extension}", upload, save=False)
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
    extension = RESULT_EXTENSIONS.get(result.content_type, ".img")
    info = ImageInfo("", result.content_type, extension, result.width, result.height)
    return data, info


def perform_edit(edit: Edit) -> None:
    """Run a started edit to its end: succeeded, or failed with a reason a person understands.

    A generation the gateway finished is paid for: its links are kept on the edit before any
    download, so a failed download is retried without asking the gateway again.
    """
    client = httpx.Client(trust_env=False, verify=fetch.TLS_VERIFY)
    with client, EditWatch(edit, client) as watch:
        links = edit.result_links
        kept_links = bool(links)
        if not kept_links:
            reply = _generate(edit, client, watch)
            if reply is None:
                return
            links = reply.images
            edit.keep_result_links(links)
        edit.report_progress(Edit.Stage.DOWNLOADING, edit.progress)
        fetched = _download(edit, links, drop_links_on_failure=kept_links)
        if fetched is not None and not watch.canceled:
            _store_results(edit, fetched)


def _generate(edit: Edit, client: httpx.Client, watch: "EditWatch") -> ParsedReply | None:
    """Ask the gateway; the reply with its images, or None when the edit ended otherwise."""
    gateway = configured_gateway()
    image_urls, sources = [], list(edit.sources.all())
    for source in sources:
        try:
            with source.file.open("rb") as original:
                payload, content_type, still = shape_with_still(
                    original, settings.GAITU_SEND_MAX_SIDE
                )
        except (OSError, SyntaxError, ValueError) as exc:
            # Damage inside a JPEG shows only when it is decoded, here: the request checked
            # no more than its end.
            edit.fail("unreadable_picture", FAILURE_CODES["unreadable_picture"], str(exc))
            return None
        if not source.thumbnail:  # shown on the card while the gateway works
            source.thumbnail.save("thumb.webp", ContentFile(thumbnail_of(still)))
        del still
        image_urls.append(data_url(payload, content_type))
    payload = build_payload(
        gateway, model=edit.model, instruction=edit.instruction, image_urls=image_urls
    )
    del image_urls
    # Asking the gateway does not need the originals' metadata gone: their cleaned copies are
    # written while it works, rather than before, and kept after.
    cleaned: list[tuple[SourceImage, str]] = []
    with ThreadPoolExecutor(1, thread_name_prefix="clean") as meanwhile:
        cleaning = meanwhile.submit(_write_cleaned, sources, cleaned)
        reply = _ask(edit, gateway, payload, client, watch)
    for source, name in cleaned:  # those written, even if a later one failed
        source.keep_cleaned(name)
    try:
        cleaning.result()
    except (OSError, ValueError) as exc:
        # The picture decoded, but its file is not whole after all (InvalidImage).
        edit.fail("unreadable_picture", FAILURE_CODES["unreadable_picture"], str(exc))
        return None
    return reply


def _write_cleaned(sources: list[SourceImage], cleaned: list[tuple[SourceImage, str]]) -> None:
    """Write each original's cleaned copy as a file of its own; no database work."""
    for source in sources:
        if not source.metadata_removed:
            cleaned.append((source, source.write_cleaned()))


def _ask(
    edit: Edit, gateway: Gateway, payload: dict, client: httpx.Client, watch: "EditWatch"
) -> ParsedReply | None:
    def on_progress(reply: ParsedReply) -> None:
        edit.report_progress(STAGE_OF_REPLY.get(reply.stage or "", edit.stage), reply.progress)

    def on_retry(attempt: int, max_attempts: int, problem: Failure, delay: float) -> None:
        edit.report_retry(attempt)

    try:
        outcome = request_edit_with_retries(
            gateway,
            payload,
            max_attempts=settings.GAITU_MAX_ATTEMPTS,
            on_progress=on_progress,
            on_retry=on_retry,
            client=client,
            sleep=watch.sleep,
        )
    except (UpstreamFailure, httpx.HTTPError, RuntimeError) as exc:
        if watch.canceled:
            return None  # the user canceled: closing the connection is what ended the request
        if not isinstance(exc, UpstreamFailure):
            raise
        Edit.objects.filter(pk=edit.pk).update(raw_reply=exc.raw_text)
        edit.fail(exc.failure.code, exc.failure.message, exc.failure.detail)
        return None
    Edit.objects.filter(pk=edit.pk).update(raw_reply=outcome.raw_text, usage=outcome.usage)
    reply = outcome.reply
    if watch.canceled:
        return None
    if reply.failure:
        edit.fail(reply.failure.code, reply.failure.message, reply.failure.detail)
        return None
    return reply


def _download(
    edit: Edit, links: list[str], *, drop_links_on_failure: bool
) -> list[tuple[str, FetchedImage]] | None:
    gateway_host = urlsplit(configured_gateway().base_url).hostname or ""
    allow_hosts = {*settings.GAITU_FETCH_ALLOW_HOSTS, gateway_host}
    fetched = []
    for ref in links:
        try:
            image = fetch_image(
                ref, allow_hosts=allow_hosts, max_bytes=settings.GAITU_RESULT_MAX_MB * 2**20
            )
        except FetchError as exc:
            logger.warning("edit %s: result %s: %s", edit.pk, describe_image_ref(ref), exc.reason)
            if drop_links_on_failure:
                # These links failed twice now; the next Retry asks the gateway afresh.
                edit.keep_result_links([])
            edit.fail(exc.code, FAILURE_CODES[exc.code], exc.reason)
            return None
        fetched.append((ref, image))
    return fetched


class EditWatch:
    """While an edit runs: refresh its heartbeat, and notice at once when it is canceled.

    A canceled edit's connection to the gateway is closed from this thread, which ends a
    blocked read in the worker thread right away, even if the gateway is silent.
    """

    INTERVAL = 1.0  # seconds between looks for a cancel
    # Seconds between heartbeats: far inside GAITU_HEARTBEAT_TIMEOUT, and sparing with writes,
    # which all edits of all workers share one database lock for.
    HEARTBEAT_EVERY = 10.0

    def __init__(self, edit: Edit, client: httpx.Client):
        self.edit = edit
        self.client = client
        self.canceled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"watch-{edit.pk}", daemon=True)

    def __enter__(self) -> "EditWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def sleep(self, seconds: float) -> None:
        """Wait between gateway attempts, but not past a cancel."""
        self._stop.wait(seconds)
        if self.canceled:
            raise UpstreamFailure(upstream_failure("interrupted"))

    def _watch(self) -> None:
        beat_after = min(self.HEARTBEAT_EVERY, settings.GAITU_HEARTBEAT_TIMEOUT / 4)
        last_beat = time.monotonic()
        try:
            while not self._stop.wait(self.INTERVAL):
                try:
                    status = Edit.objects.filter(pk=self.edit.pk).values_list("status", flat=True)
                    if status.first() != Edit.Status.RUNNING:
                        self.canceled = True
                        self.client.close()
                        self._stop.set()
                        return
                    if time.monotonic() - last_beat >= beat_after:
                        Edit.objects.filter(pk=self.edit.pk).update(heartbeat_at=timezone.now())
                        last_beat = time.monotonic()
                except DatabaseError:
                    logger.warning("edit %s: heartbeat skipped", self.edit.pk, exc_info=True)
        finally:
            connection.close()


def _store_results(edit: Edit, fetched: list[tuple[str, FetchedImage]]) -> None:
    results = []
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
            extension = RESULT_EXTENSIONS.get(image.content_type, ".img")
            result.file.save(f"result{extension}", ContentFile(image.data), save=False)
            results.append(result)
            data = ContentFile(image.data)
            result.thumbnail.save("thumb.webp", ContentFile(make_thumbnail(data)), save=False)
        with transaction.atomic():
            ResultImage.objects.bulk_create(results)
            if not edit.succeed():
                raise _Superseded
    except Exception as exc:
        for result in results:
            result.file.delete(save=False)
            result.thumbnail.delete(save=False)
        if not isinstance(exc, _Superseded):
            raise


class _Superseded(Exception):
    """The edit was canceled (or otherwise moved on) while its results were being saved."""
