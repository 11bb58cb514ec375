"""/api/v1/edits: start edits, follow them, and cancel, retry, share or delete them. The work
itself is done by editor.services, as for the studio's buttons."""

from typing import Any
from uuid import UUID

from django.core.paginator import EmptyPage, Paginator
from django.db import DatabaseError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from editor import services
from editor.forms import EditForm
from editor.limits import (
    body_too_large,
    storage_failure,
    storage_refusal,
    submission_limit,
    upload_too_large_message,
)
from editor.models import Edit

from .auth import TokenRequest
from .errors import ApiError
from .schemas import (
    IMAGE_TYPES,
    Accepted,
    EditFilters,
    EditOut,
    EditPage,
    Error,
    NewEdit,
    ShareLink,
    ShareSettings,
    form_body,
)

PAGE_SIZE = 20

# What a client may do next with a new edit's id (schemathesis follows these, too).
NEW_EDIT_LINKS = {
    name: {"operationId": name, "parameters": {"edit_id": "$response.body#/id"}}
    for name in ("get_edit", "cancel_edit", "retry_edit", "share_edit", "delete_edit")
}

router = Router(tags=["edits"])


def own_edit(request: TokenRequest, edit_id: UUID) -> Edit:
    """The requester's edit, or 404 (also for someone else's)."""
    edit = _edits_of(request).select_related("share").filter(pk=edit_id).first()
    if edit is None:
        raise ApiError(404, "not_found", _("There is no such edit."))
    return edit


def _edits_of(request: TokenRequest) -> QuerySet[Edit]:
    return Edit.objects.filter(owner=request.user).prefetch_related("sources", "results")


@router.get(
    "/edits",
    response={200: EditPage, 400: Error, 401: Error, 404: Error},
    operation_id="list_edits",
    url_name="api_edits",
    summary="Your edits, newest first",
)
def list_edits(request: TokenRequest, filters: Query[EditFilters]) -> dict[str, Any]:
    chosen = _edits_of(request).select_related("share")
    if filters.status:
        chosen = chosen.filter(status=filters.status)
    paginator = Paginator(chosen, PAGE_SIZE)
    try:
        page = paginator.page(filters.page)
    except EmptyPage:
        raise ApiError(404, "not_found", _("There is no such page."), field="page") from None
    # A dict, not an EditPage: ninja makes the schema from it with the request, for the URLs.
    return {
        "results": list(page),
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
    }


@router.post(
    "/edits",
    # 507: no room to store it (storage_full, quota_exceeded, storage_error); waiting alone
    # does not help, so not a 429 with Retry-After.
    response={202: Accepted, 400: Error, 401: Error, 413: Error, 429: Error, 507: Error},
    operation_id="create_edit",
    url_name="api_edits",
    summary="Start an edit",
    description="A multipart form, as a browser would post it; `curl -F image=@photo.jpg "
    "-F instruction=…`. Poll the answer's `url` until the edit has finished. 413 for a "
    "picture over the size limit (`file_too_large`, naming the file) and for a request body "
    "over what any edit can need (`request_too_large`: refused before it is read). 507 when there "
    "is no room to store it: the server's disk is nearly full (`storage_full`), your storage "
    "quota is used up (`quota_exceeded`, see `GET /account`), or the write failed "
    "(`storage_error`); deleting edits frees room.",
    openapi_extra={
        **form_body(
            NewEdit, "multipart/form-data", required=True, image={"contentType": IMAGE_TYPES}
        ),
        "responses": {202: {"links": NEW_EDIT_LINKS}},
    },
)
def create_edit(request: TokenRequest) -> Status:
    # Both before the body is read: an oversized upload is refused unread, and a person over
    # their limit costs no parsing.
    if body_too_large(request):  # webapp/request_limits.py refuses it first; this is a fallback
        raise ApiError(413, "request_too_large", upload_too_large_message())
    if limit := submission_limit(request.user):
        raise ApiError(429, limit.code, limit.message, retry_after=limit.retry_after)
    if no_room := storage_refusal(request.user):
        raise ApiError(507, no_room.code, no_room.message)
    try:
        files = {"images": request.FILES.getlist("image")}
        form = EditForm(request.POST, files, owner=request.user)
        if not form.is_valid():
            raise _form_error(form)
        edit = form.submit()
    except (OSError, DatabaseError) as exc:
        # The disk filled up while storing: nothing of the edit was kept (services.submit).
        if not (no_room := storage_failure(exc)):
            raise
        raise ApiError(507, no_room.code, no_room.message) from exc
    url = request.build_absolute_uri(reverse("api_edit", args=[edit.pk]))
    return Status(202, Accepted(id=edit.pk, status=Edit.Status(edit.status), url=url))


def _form_error(form: EditForm) -> ApiError:
    """The form's first problem, in the studio's words; the API names its own field."""
    field, problems = next(iter(form.errors.as_data().items()))
    problem = problems[0]
    return ApiError(
        413 if problem.code == "file_too_large" else 400,
        problem.code or "invalid",
        " ".join(problem.messages),
        field="image" if field == "images" else field,
    )


@router.get(
    "/edits/{edit_id}",
    response={200: EditOut, 401: Error, 404: Error},
    operation_id="get_edit",
    url_name="api_edit",
    summary="One edit, with links to its pictures (they take the same token)",
)
def get_edit(request: TokenRequest, edit_id: UUID) -> Edit:
    return own_edit(request, edit_id)


@router.delete(
    "/edits/{edit_id}",
    response={204: None, 401: Error, 404: Error},
    operation_id="delete_edit",
    url_name="api_edit",
    summary="Delete an edit and its pictures (a running edit is canceled first)",
)
def delete_edit(request: TokenRequest, edit_id: UUID) -> Status:
    services.delete(own_edit(request, edit_id))
    return Status(204, None)


@router.post(
    "/edits/{edit_id}/cancel",
    response={200: EditOut, 401: Error, 404: Error, 409: Error},
    operation_id="cancel_edit",
    url_name="api_edit_cancel",
    summary="Cancel a queued or running edit",
)
def cancel_edit(request: TokenRequest, edit_id: UUID) -> Edit:
    edit = own_edit(request, edit_id)
    if not services.cancel(edit):
        raise ApiError(409, "not_active", _("Only a queued or running edit can be canceled."))
    return edit


@router.post(
    "/edits/{edit_id}/retry",
    response={202: EditOut, 401: Error, 404: Error, 409: Error},
    operation_id="retry_edit",
    url_name="api_edit_retry",
    summary="Run a failed or canceled edit again with the same originals",
)
def retry_edit(request: TokenRequest, edit_id: UUID) -> Status:
    edit = own_edit(request, edit_id)
    if not services.retry(edit):
        raise ApiError(409, "not_retryable", _("Only a failed or canceled edit can be retried."))
    return Status(202, edit)


@router.post(
    "/edits/{edit_id}/share",
    # 400 and 413 for a form Django will not read (too many fields, too big, not well-formed).
    response={
        200: ShareLink,
        201: ShareLink,
        400: Error,
        401: Error,
        404: Error,
        409: Error,
        413: Error,
    },
    operation_id="share_edit",
    url_name="api_edit_share",
    summary="Make (or change) the public link to a finished edit",
    description="201 when the link is new, 200 when it was there and its settings changed.",
    openapi_extra=form_body(ShareSettings, "application/x-www-form-urlencoded", required=False),
)
def share_edit(request: TokenRequest, edit_id: UUID) -> Status:
    edit = own_edit(request, edit_id)
    shared = services.share(
        edit,
        show_original=_flag(request.POST.get("show_original"), default=True),
        show_instruction=_flag(request.POST.get("show_instruction"), default=True),
    )
    if shared is None:
        raise ApiError(409, "not_shareable", _("Only a finished edit with a result can be shared."))
    share, created = shared
    return Status(201 if created else 200, share)


def _flag(value: str | None, *, default: bool) -> bool:
    """A form's yes or no, as forgiving as it always was: absent means the default."""
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@router.delete(
    "/edits/{edit_id}/share",
    response={204: None, 401: Error, 404: Error},
    operation_id="unshare_edit",
    url_name="api_edit_share",
    summary="Revoke the public link; it then answers 404",
)
def unshare_edit(request: TokenRequest, edit_id: UUID) -> Status:
    services.unshare(own_edit(request, edit_id))
    return Status(204, None)
