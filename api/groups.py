"""/api/v1/batches and /api/v1/comparisons: edits started together. A batch applies one
instruction to each of its pictures, an edit per picture; a comparison sends the same pictures
and instruction to several models, an edit per model, and lets the person pick the winner.
Each of their edits is an edit like any other, at /api/v1/edits/{edit_id}."""

from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from ninja import Router, Status

from editor import services
from editor.forms import MODE_BATCH, MODE_COMPARE, EditForm
from editor.models import Edit, EditGroup

from .auth import TokenRequest
from .edits import submitted
from .errors import ApiError
from .schemas import (
    IMAGE_TYPES,
    Error,
    GroupOut,
    NewBatch,
    NewComparison,
    Winner,
    form_body,
    json_body,
    read_json,
)

# Everything a submission can be refused with, as for POST /edits (see its description).
SUBMIT_RESPONSES = {202: GroupOut, 400: Error, 401: Error, 413: Error, 429: Error, 507: Error}
REFUSALS = (
    "400 for a form that is not in order (`field` names the field), 413 for a picture or a "
    "body over the size limit, 429 over your rate or daily limit, 507 with no room to store "
    "it: as for `POST /edits`."
)


def _links(kind: str) -> dict[str, dict]:
    """What a client may do next with a new group's id (schemathesis follows these, too)."""
    names = [f"get_{kind}", f"retry_{kind}", f"delete_{kind}"]
    if kind == "comparison":
        names.append("choose_winner")
    return {
        name: {"operationId": name, "parameters": {"group_id": "$response.body#/id"}}
        for name in names
    }


router = Router(tags=["batches and comparisons"])


def own_group(request: TokenRequest, group_id: UUID, kind: EditGroup.Kind) -> EditGroup:
    """The requester's batch or comparison with its edits, or 404 (also for someone else's)."""
    group = _with_edits().filter(owner=request.user, kind=kind, pk=group_id).first()
    if group is None:
        raise ApiError(404, "not_found", not_found_message(kind))
    return group


def not_found_message(kind: str) -> str:
    if kind == EditGroup.Kind.BATCH:
        return _("There is no such batch.")
    return _("There is no such comparison.")


def _with_edits() -> QuerySet[EditGroup]:
    # In the order they were made: a batch's pictures', a comparison's models'.
    edits = Edit.objects.order_by("created_at", "id")
    return EditGroup.objects.prefetch_related(Prefetch("edits", queryset=edits))


def _fresh(group: EditGroup) -> EditGroup:
    """The group with its edits as they are now, after a change to them."""
    return _with_edits().get(pk=group.pk)


def _created(request: TokenRequest, mode: str) -> Status:
    return Status(202, _fresh(submitted(request, mode, _group_from)))


def _group_from(form: EditForm) -> EditGroup:
    group = form.submit()
    if not isinstance(group, EditGroup):  # a batch's and a comparison's modes make groups
        raise TypeError(f"{form.cleaned_data['mode']} made no group")
    return group


def _retried(group: EditGroup) -> Status:
    if not services.retry_failed(group):
        message = _("None of its edits failed in a way a retry could help.")
        raise ApiError(409, "not_retryable", message)
    return Status(202, _fresh(group))


def _deleted(group: EditGroup) -> Status:
    # Each edit as DELETE /edits/{edit_id} deletes it: a running one is canceled first, and
    # its pictures go with it.
    services.delete_group(group)
    return Status(204, None)


# --- Batches -------------------------------------------------------------------------------


@router.post(
    "/batches",
    response=SUBMIT_RESPONSES,
    operation_id="create_batch",
    url_name="api_batches",
    summary="Edit each of several pictures with one instruction",
    description="A multipart form: `image` repeated (up to the batch limit), the "
    "`instruction`, the `model` and the options, as for `POST /edits`. Each picture becomes "
    "an edit of its own, queued as your other edits are; poll the answer's `url` until its "
    "`status` is no longer `active`. " + REFUSALS,
    openapi_extra={
        **form_body(
            NewBatch, "multipart/form-data", required=True, image={"contentType": IMAGE_TYPES}
        ),
        "responses": {202: {"links": _links("batch")}},
    },
)
def create_batch(request: TokenRequest) -> Status:
    return _created(request, MODE_BATCH)


@router.get(
    "/batches/{group_id}",
    response={200: GroupOut, 401: Error, 404: Error},
    operation_id="get_batch",
    url_name="api_batch",
    summary="A batch: how far its edits are, and links to each",
)
def get_batch(request: TokenRequest, group_id: UUID) -> EditGroup:
    return own_group(request, group_id, EditGroup.Kind.BATCH)


@router.post(
    "/batches/{group_id}/retry",
    response={202: GroupOut, 401: Error, 404: Error, 409: Error},
    operation_id="retry_batch",
    url_name="api_batch_retry",
    summary="Run the batch's failed and canceled edits again",
    description="Only those a retry can help: not one that failed in a way it would repeat "
    "(an unreadable picture, a refused key…); the edits that succeeded are kept as they are. "
    "409 (`not_retryable`) when there is none.",
)
def retry_batch(request: TokenRequest, group_id: UUID) -> Status:
    return _retried(own_group(request, group_id, EditGroup.Kind.BATCH))


@router.delete(
    "/batches/{group_id}",
    response={204: None, 401: Error, 404: Error},
    operation_id="delete_batch",
    url_name="api_batch",
    summary="Delete a batch and all its edits (running ones are canceled first)",
)
def delete_batch(request: TokenRequest, group_id: UUID) -> Status:
    return _deleted(own_group(request, group_id, EditGroup.Kind.BATCH))


# --- Comparisons ---------------------------------------------------------------------------


@router.post(
    "/comparisons",
    response=SUBMIT_RESPONSES,
    operation_id="create_comparison",
    url_name="api_comparisons",
    summary="Send the same pictures and instruction to several models",
    description="A multipart form as for `POST /edits`, with `models` repeated (2 to 4 of "
    "`GET /models`) instead of `model`. Each model gets an edit of its own; with no pictures, "
    "each makes one from the instruction alone. Once they have finished, pick the winner with "
    "`POST /comparisons/{group_id}/winner`. " + REFUSALS,
    openapi_extra={
        **form_body(
            NewComparison,
            "multipart/form-data",
            required=True,
            image={"contentType": IMAGE_TYPES},
        ),
        "responses": {202: {"links": _links("comparison")}},
    },
)
def create_comparison(request: TokenRequest) -> Status:
    return _created(request, MODE_COMPARE)


@router.get(
    "/comparisons/{group_id}",
    response={200: GroupOut, 401: Error, 404: Error},
    operation_id="get_comparison",
    url_name="api_comparison",
    summary="A comparison: each model's edit, and the winner",
)
def get_comparison(request: TokenRequest, group_id: UUID) -> EditGroup:
    return own_group(request, group_id, EditGroup.Kind.COMPARISON)


@router.post(
    "/comparisons/{group_id}/winner",
    response={200: GroupOut, 400: Error, 401: Error, 404: Error, 409: Error},
    operation_id="choose_winner",
    url_name="api_comparison_winner",
    summary="Pick the comparison's winner, or none",
    description='A JSON body, `{"edit_id": "…"}` naming one of its edits that succeeded, '
    'or `{"edit_id": null}` for none. 409 (`not_a_contender`, `field` `edit_id`) for an '
    "edit that is not one of the comparison's, or did not succeed; 400 for a body that is "
    "not such an object.",
    openapi_extra=json_body(Winner),
)
def choose_winner(request: TokenRequest, group_id: UUID) -> EditGroup:
    group = own_group(request, group_id, EditGroup.Kind.COMPARISON)
    winner = read_json(request, Winner)
    chosen = None
    if winner.edit_id is not None:
        # One of its edits, or none at all: an edit of another group (or person) is no better.
        chosen = next((edit for edit in group.edits.all() if edit.pk == winner.edit_id), None)
        if chosen is None:
            message = _("That edit is not one of the comparison's.")
            raise ApiError(409, "not_a_contender", message, field="edit_id")
    if not services.choose_winner(group, chosen):
        message = _("Only an edit that succeeded can win.")
        raise ApiError(409, "not_a_contender", message, field="edit_id")
    return group


@router.post(
    "/comparisons/{group_id}/retry",
    response={202: GroupOut, 401: Error, 404: Error, 409: Error},
    operation_id="retry_comparison",
    url_name="api_comparison_retry",
    summary="Run the comparison's failed and canceled edits again",
    description="Only those a retry can help, as for a batch; the others are kept as they are. "
    "409 (`not_retryable`) when there is none.",
)
def retry_comparison(request: TokenRequest, group_id: UUID) -> Status:
    return _retried(own_group(request, group_id, EditGroup.Kind.COMPARISON))


@router.delete(
    "/comparisons/{group_id}",
    response={204: None, 401: Error, 404: Error},
    operation_id="delete_comparison",
    url_name="api_comparison",
    summary="Delete a comparison and all its edits (running ones are canceled first)",
)
def delete_comparison(request: TokenRequest, group_id: UUID) -> Status:
    return _deleted(own_group(request, group_id, EditGroup.Kind.COMPARISON))
