"""The path of one edit: store the originals, ask the gateway, keep what it made."""

import logging
from collections.abc import Sequence
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from . import demo
from .fetch import FetchedImage, FetchError, fetch_image
from .imaging import ImageInfo, make_thumbnail, shape_for_upstream
from .models import Edit, ResultImage, SourceImage
from .reply import FAILURE_CODES, ParsedReply, describe_image_ref
from .upstream import Gateway, UpstreamFailure, build_payload, data_url, request_edit

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
    )


def submit_edit(
    owner, *, instruction: str, model: str, uploads: Sequence[tuple[UploadedFile, ImageInfo]]
) -> Edit:
    """Store the edit and its originals, and queue the job once they are committed."""
    from .tasks import run_edit

    saved: list[SourceImage] = []
    try:
        with transaction.atomic():
            edit = Edit.objects.create(owner=owner, instruction=instruction, model=model)
            for position, (upload, info) in enumerate(uploads):
                source = SourceImage(
                    edit=edit,
                    position=position,
                    filename=(upload.name or "")[:255],
                    width=info.width,
                    height=info.height,
                    content_type=info.content_type,
                )
                source.file.save(f"original{info.extension}", upload, save=False)
                saved.append(source)
                source.save()
            transaction.on_commit(partial(run_edit.enqueue, str(edit.pk)))
    except Exception:
        for source in saved:  # nothing half-stored: no files without their rows
            source.file.delete(save=False)
        raise
    return edit


def perform_edit(edit: Edit) -> None:
    """Run a started edit to its end: succeeded, or failed with a reason a person understands."""
    gateway = configured_gateway()
    image_urls = []
    for source in edit.sources.all():
        with source.file.open("rb") as original:
            if not source.thumbnail:
                source.thumbnail.save("thumb.webp", ContentFile(make_thumbnail(original)))
            image_urls.append(data_url(*shape_for_upstream(original, settings.GAITU_SEND_MAX_SIDE)))
    payload = build_payload(
        gateway, model=edit.model, instruction=edit.instruction, image_urls=image_urls
    )
    del image_urls

    def on_progress(reply: ParsedReply) -> None:
        edit.report_progress(STAGE_OF_REPLY.get(reply.stage or "", edit.stage), reply.progress)

    try:
        outcome = request_edit(gateway, payload, on_progress)
    except UpstreamFailure as exc:
        Edit.objects.filter(pk=edit.pk).update(raw_reply=exc.raw_text)
        edit.fail(exc.failure.code, exc.failure.message, exc.failure.detail)
        return
    Edit.objects.filter(pk=edit.pk).update(raw_reply=outcome.raw_text, usage=outcome.usage)
    reply = outcome.reply
    if reply.failure:
        edit.fail(reply.failure.code, reply.failure.message, reply.failure.detail)
        return
    edit.report_progress(Edit.Stage.DOWNLOADING, reply.progress)
    allow_hosts = {*settings.GAITU_FETCH_ALLOW_HOSTS, urlsplit(gateway.base_url).hostname or ""}
    fetched: list[tuple[str, FetchedImage]] = []
    for ref in reply.images:
        try:
            image = fetch_image(
                ref, allow_hosts=allow_hosts, max_bytes=settings.GAITU_RESULT_MAX_MB * 2**20
            )
        except FetchError as exc:
            logger.warning("edit %s: result %s: %s", edit.pk, describe_image_ref(ref), exc.reason)
            edit.fail(exc.code, FAILURE_CODES[exc.code], exc.reason)
            return
        fetched.append((ref, image))
    _store_results(edit, fetched)


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
