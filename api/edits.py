"""/api/v1/edits: start edits, follow them, and cancel, retry, share or delete them. The work
itself is done by editor.services, as for the studio's buttons."""

import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.core.paginator import EmptyPage, Paginator
from django.db import DatabaseError
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from editor import services
from editor.forms import CUSTOM_SIZE, MODE_SINGLE, EditForm
from editor.limits import (
    body_too_large,
    storage_failure,
    storage_refusal,
    submission_limit,
    upload_too_large_message,
)
from editor.models import Edit, EditGroup
from editor.search import chosen_edits

from .auth import TokenRequest
from .errors import ApiError
from .schemas import (
    IMAGE_TYPES,
    Accepted,
    ChooseResult,
    EditFilters,
    EditOut,
    EditPage,
    Error,
    NewEdit,
    ShareLink,
    ShareSettings,
    form_body,
    json_body,
    read_json,
)

PAGE_SIZE = 20
# A custom size as the API takes it (the sides' range is the form's to check).
PIXEL_SIZE = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")

# What a client may do next with a new edit's id (schemathesis follows these, too).
NEW_EDIT_LINKS = {
    name: {"operationId": name, "parameters": {"edit_id": "$response.body#/id"}}
    for name in (
        "get_edit",
        "cancel_edit",
        "retry_edit",
        "share_edit",
        "delete_edit",
        "choose_result",
    )
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
    # The gallery's search and filters (editor/search.py), with what an EditOut shows.
    chosen = chosen_edits(request.user, filters.q, filters.status or "")
    chosen = chosen.select_related("share").prefetch_related("sources", "results")
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
    summary="Start an edit, or make a picture from words alone",
    description="A multipart form, as a browser would post it; `curl -F image=@photo.jpg "
    "-F instruction=…`. With no `image`, `image_url` or `parent` it makes a picture from the "
    "instruction alone (its `kind` is `generation`). `size`, `n` and `quality` ask for more "
    "than the model's defaults; with `n` over 1, choose the result that stands for the edit "
    "with `POST /edits/{edit_id}/choose`. Several pictures each on their own: `POST /batches`; "
    "the same to several models: `POST /comparisons`. "
    "Poll the answer's `url` until the edit has finished. 413 for a "
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
    edit = submitted(request, MODE_SINGLE, EditForm.submit_one)
    url = request.build_absolute_uri(reverse("api_edit", args=[edit.pk]))
    return Status(202, Accepted(id=edit.pk, status=Edit.Status(edit.status), url=url))


def submitted[Started: Edit | EditGroup](
    request: TokenRequest, mode: str, start: Callable[[EditForm], Started]
) -> Started:
    """Start what the request's form asks for in `mode` (one edit, a batch, a comparison) with
    `start` (EditForm.submit_one or submit), as the studio would; or raise the ApiError that
    says why not. The edits, batches and comparisons endpoints all come here, so one set of
    limits holds for each."""
    # Both before the body is read: an oversized upload is refused unread, and a person over
    # their limit costs no parsing.
    if body_too_large(request):  # webapp/request_limits.py refuses it first; this is a fallback
        raise ApiError(413, "request_too_large", upload_too_large_message())
    if limit := submission_limit(request.user):
        raise ApiError(429, limit.code, limit.message, retry_after=limit.retry_after)
    if no_room := storage_refusal(request.user):
        raise ApiError(507, no_room.code, no_room.message)
    if request.POST.getlist("image"):
        # Sent as text, not as a file: it would be taken as no picture (a generation).
        message = _("Send each picture as a file (multipart/form-data), not as text.")
        raise ApiError(400, "invalid_image", message, field="image")
    try:
        form = EditForm(
            _form_fields(request, mode),
            {"images": request.FILES.getlist("image"), "mask": request.FILES.get("mask")},
            owner=request.user,
        )
        # Its webhooks hear when the edits end (webhooks/).
        form.api_token = request.api_token
        if not form.is_valid():
            raise _form_error(form)
        return start(form)
    except (OSError, DatabaseError) as exc:
        # The disk filled up while storing: nothing of the edit was kept (services.submit).
        if not (no_room := storage_failure(exc)):
            raise
        raise ApiError(507, no_room.code, no_room.message) from exc


def _form_fields(request: TokenRequest, mode: str) -> QueryDict:
    """The request's fields as the studio's form names them: the API takes a custom size as
    one `WIDTHxHEIGHT`, the form as "custom" with a width and a height."""
    fields = request.POST.copy()
    fields["mode"] = mode
    if custom := PIXEL_SIZE.fullmatch(fields.get("size", "")):
        fields["size"] = CUSTOM_SIZE
        fields["width"], fields["height"] = custom.groups()
    else:  # only through `size`, so that an error names the field the API has
        fields.pop("width", None)
        fields.pop("height", None)
    return fields


# The form's fields as the API names them.
API_FIELDS = {"images": "image", "width": "size", "height": "size"}


def _form_error(form: EditForm) -> ApiError:
    """The form's first problem, in the studio's words; the API names its own field."""
    field, problems = next(iter(form.errors.as_data().items()))
    problem = problems[0]
    return ApiError(
        413 if problem.code == "file_too_large" else 400,
        problem.code or "invalid",
        " ".join(problem.messages),
        field=API_FIELDS.get(field, field),
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
    "/edits/{edit_id}/choose",
    response={200: EditOut, 400: Error, 401: Error, 404: Error, 409: Error},
    operation_id="choose_result",
    url_name="api_edit_choose",
    summary="Choose the result that stands for the edit (of several)",
    description='A JSON body, `{"position": 1}`: the `position` of one of its `results`. It '
    "then stands for the edit in downloads, sharing and the gallery; the others stay. 409 "
    "(`no_such_result`, `field` `position`) when the edit has no result there (yet), 400 for "
    "a body that is not such an object.",
    openapi_extra=json_body(ChooseResult),
)
def choose_result(request: TokenRequest, edit_id: UUID) -> Edit:
    edit = own_edit(request, edit_id)
    choice = read_json(request, ChooseResult)
    if not services.choose_result(edit, choice.position):
        raise ApiError(409, "no_such_result", _("The edit has no result there."), field="position")
    return edit


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
