"""Pictures, only through views that check who may see them."""

import functools
import io
from uuid import UUID

from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404

from accounts.access import requesting_user
from editor.models import ResultImage, SourceImage
from editor.picture_store import StoredStream, open_stream
from imaging import InvalidImage
from imaging.types import EXTENSIONS
from webapp.streaming import StreamedFileResponse

MEDIA_KINDS = {"source", "result"}

# "display": the before/after's rendition of at most 1600 px (imaging.shape.DISPLAY_SIDE).
MEDIA_VARIANTS = {"full", "display", "thumb", "download"}
# The mask painted on an edit's first original: its owner's alone, never on a share page
# (share.py takes MEDIA_VARIANTS only), so a shared link says nothing of what was asked.
MASK_VARIANT = "mask"


MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"

# What a thumbnail shows when its file is not there (not made yet, or gone from the disk).
PLACEHOLDER = "gaitu/picture-missing.svg"

# The owner's pictures (behind their login or token): a stored picture's URL never shows
# other bytes, so their own browser may keep it, and "private" keeps it out of every shared
# cache. That copy is theirs, in a browser they signed in with, as the pictures are.
OWNER_CACHE = "private, max-age=31536000, immutable"
# A shared page and its pictures: kept by no cache, neither a proxy nor the browser, so that a
# revoked link shows nothing more anywhere, at once; and should a cache keep it all the same
# (a browser's back button may), it must ask again before showing it.
SHARE_CACHE = "private, no-cache, no-store"


@login_not_required
def media(
    request: HttpRequest, edit_id: UUID, kind: str, position: int, variant: str
) -> HttpResponseBase:
    """A picture of an edit, for its owner only (by session or API token)."""
    user = requesting_user(request)
    if user is None or kind not in MEDIA_KINDS:
        raise Http404
    if kind == "source" and variant == MASK_VARIANT:
        source = get_object_or_404(
            SourceImage, edit_id=edit_id, edit__owner=user, position=position
        )
        return mask_response(source)
    if variant not in MEDIA_VARIANTS:
        raise Http404
    image = stored_picture(kind, edit_id=edit_id, edit__owner=user, position=position)
    return picture_response(image, kind, variant, shared=False)


def mask_response(source: SourceImage) -> HttpResponseBase:
    """The mask painted on an original (a PNG, transparent where to change), or 404."""
    if not source.mask:
        raise Http404
    try:
        stored = open_stream(source.mask.storage, source.mask.name or "")
    except OSError:  # gone from the store
        raise Http404 from None
    response = StreamedFileResponse(
        stored.body, content_type="image/png", filename=source.mask.name or ""
    )
    return _with_headers(response, stored, OWNER_CACHE)


def stored_picture(kind: str, **lookup: object) -> SourceImage | ResultImage:
    """The original ("source") or the result the lookup finds, or 404."""
    if kind == "source":
        return get_object_or_404(SourceImage, **lookup)
    return get_object_or_404(ResultImage, **lookup)


def picture_response(
    image: SourceImage | ResultImage, kind: str, variant: str, *, shared: bool
) -> HttpResponseBase:
    """The picture's bytes; a stand-in for a missing thumbnail, 404 for a missing picture.

    Files can go missing behind Gaitu's back (a disk restored from an old backup, a hand that
    tidied the media folder or the bucket): that is never a server error. Galleries and cards
    still show a tile, and a full size or download that is not there says so with a plain 404.

    The bytes are relayed from the store, the data folder or the bucket alike, by this view
    and with its headers; a picture's URL is never a link into the bucket (README, "Pictures
    in object storage").
    """
    cache = SHARE_CACHE if shared else OWNER_CACHE
    if variant == "thumb":
        try:
            stored = _rendition_stream(image.thumbnail)
        except OSError:
            return _placeholder(shared)
        # Named as on the disk, so that its headers are the same whichever the store.
        response = StreamedFileResponse(
            stored.body, content_type="image/webp", filename=image.thumbnail.name or ""
        )
        return _with_headers(response, stored, cache)
    if variant == "display":
        try:
            stored = _rendition_stream(image.display)
        except OSError:
            # Not made (an edit from before display renditions), or gone: the full picture
            # shows the same, but is not kept for good under this URL, as the rendition is.
            response, stored = _full_picture(image, kind, as_attachment=False)
            return _with_headers(response, stored, SHARE_CACHE if shared else "private, no-cache")
        name = image.display.name or ""
        response = StreamedFileResponse(stored.body, content_type=display_type(name), filename=name)
        return _with_headers(response, stored, cache)
    response, stored = _full_picture(image, kind, as_attachment=variant == "download")
    return _with_headers(response, stored, cache)


def _full_picture(
    image: SourceImage | ResultImage, kind: str, *, as_attachment: bool
) -> tuple[StreamedFileResponse, StoredStream]:
    try:
        stored = _open_picture(image)
    except (OSError, ObjectDoesNotExist):  # gone from the store (or the edit just deleted)
        raise Http404 from None
    except InvalidImage:
        raise Http404 from None  # not a whole picture: the worker will say so on its card
    response = StreamedFileResponse(
        stored.body,
        content_type=image.content_type,
        as_attachment=as_attachment,
        filename=_download_name(image, kind),
    )
    return response, stored


def _with_headers(
    response: StreamedFileResponse, stored: StoredStream, cache: str
) -> StreamedFileResponse:
    # A body read as it comes from a bucket has no length Django can find out by itself.
    response["Content-Length"] = str(stored.size)
    response["Cache-Control"] = cache
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


def display_type(name: str) -> str:
    """A display rendition's content type, by its name's extension: a JPEG, or a WebP for a
    picture with transparency and for every rendition made before they were JPEGs."""
    return "image/jpeg" if name.endswith(EXTENSIONS["image/jpeg"]) else "image/webp"


def _rendition_stream(rendition: FieldFile) -> StoredStream:
    """A thumbnail or display rendition; FileNotFoundError while the worker has not made it."""
    if not rendition:
        raise FileNotFoundError(rendition.name)
    return open_stream(rendition.storage, rendition.name or "")


def _placeholder(shared: bool) -> HttpResponse:
    """The stand-in tile, never kept for good: the real thumbnail may come (back) later."""
    response = HttpResponse(_placeholder_bytes(), content_type="image/svg+xml")
    response["Cache-Control"] = SHARE_CACHE if shared else "private, no-cache"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


@functools.cache
def _placeholder_bytes() -> bytes:
    path = finders.find(PLACEHOLDER)
    if not isinstance(path, str):  # the app's own static file: always found
        raise LookupError(PLACEHOLDER)
    with open(path, "rb") as svg:
        return svg.read()


def _open_picture(image: SourceImage | ResultImage) -> StoredStream:
    try:
        return _picture_stream(image)
    except FileNotFoundError:  # the worker stored it cleaned just now, under a new name
        image.refresh_from_db()
        return _picture_stream(image)


def _picture_stream(image: SourceImage | ResultImage) -> StoredStream:
    """The stored file; an original whose worker has not run yet is cleaned on the way out."""
    if isinstance(image, SourceImage) and not image.metadata_removed:
        cleaned = image.cleaned_bytes()
        return StoredStream(io.BytesIO(cleaned), len(cleaned))
    return open_stream(image.file.storage, image.file.name or "")


def _download_name(image: SourceImage | ResultImage, kind: str) -> str:
    extension = (image.file.name or "").rsplit(".", 1)[-1]  # a stored file always has a name
    label = "original" if kind == "source" else "result"
    suffix = f"-{image.position + 1}" if image.position else ""
    return f"gaitu-{str(image.edit_id)[:8]}-{label}{suffix}.{extension}"
