"""Pictures, only through views that check who may see them."""

import io
from typing import IO
from uuid import UUID

from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404

from accounts.access import requesting_user
from editor.models import ResultImage, SourceImage
from imaging import InvalidImage

MEDIA_KINDS = {"source", "result"}


MEDIA_VARIANTS = {"full", "thumb", "download"}


MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@login_not_required
def media(
    request: HttpRequest, edit_id: UUID, kind: str, position: int, variant: str
) -> FileResponse:
    """A picture of an edit, for its owner only (by session or API token)."""
    user = requesting_user(request)
    if user is None or kind not in MEDIA_KINDS or variant not in MEDIA_VARIANTS:
        raise Http404
    image = stored_picture(kind, edit_id=edit_id, edit__owner=user, position=position)
    return picture_response(image, kind, variant, cache="private")


def stored_picture(kind: str, **lookup: object) -> SourceImage | ResultImage:
    """The original ("source") or the result the lookup finds, or 404."""
    if kind == "source":
        return get_object_or_404(SourceImage, **lookup)
    return get_object_or_404(ResultImage, **lookup)


def picture_response(
    image: SourceImage | ResultImage, kind: str, variant: str, *, cache: str
) -> FileResponse:
    if variant == "thumb":
        if not image.thumbnail:
            raise Http404
        response = FileResponse(image.thumbnail.open("rb"), content_type="image/webp")
    else:
        try:
            body = _picture_file(image)
        except FileNotFoundError:  # the worker stored it cleaned just now, under a new name
            image.refresh_from_db()
            body = _picture_file(image)
        except InvalidImage:
            raise Http404 from None  # not a whole picture: the worker will say so on its card
        response = FileResponse(
            body,
            content_type=image.content_type,
            as_attachment=variant == "download",
            filename=_download_name(image, kind),
        )
    # A private URL of a stored picture never shows other bytes, so browsers may keep it.
    response["Cache-Control"] = (
        "private, max-age=31536000, immutable" if cache == "private" else "no-cache"
    )
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


def _picture_file(image: SourceImage | ResultImage) -> IO[bytes]:
    """The stored file; an original whose worker has not run yet is cleaned on the way out."""
    if isinstance(image, SourceImage) and not image.metadata_removed:
        return io.BytesIO(image.cleaned_bytes())
    return image.file.open("rb")


def _download_name(image: SourceImage | ResultImage, kind: str) -> str:
    extension = (image.file.name or "").rsplit(".", 1)[-1]  # a stored file always has a name
    label = "original" if kind == "source" else "edited"
    suffix = f"-{image.position + 1}" if image.position else ""
    return f"gaitu-{str(image.edit_id)[:8]}-{label}{suffix}.{extension}"
