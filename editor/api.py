"""The JSON API (`/api/v1/`), for scripts. Authenticated by API token only, never by cookie,
which is why its views are exempt from CSRF."""

from collections.abc import Callable
from functools import wraps
from uuid import UUID

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .access import bearer_token
from .forms import EditForm
from .models import ApiToken, Edit
from .pipeline import submit_edit
from .tasks import enqueue_on_commit


def error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": str(message), **extra}}, status=status)


def token_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        raw = bearer_token(request)
        user = ApiToken.authenticate(raw) if raw else None
        if user is None:
            response = error(
                401, "unauthorized", _("Send a valid API token as 'Authorization: Bearer …'.")
            )
            response["WWW-Authenticate"] = 'Bearer realm="gaitu"'
            return response
        request.user = user
        return view(request, *args, **kwargs)

    return login_not_required(csrf_exempt(wrapper))


@token_required
@require_POST
def create_edit(request: HttpRequest) -> JsonResponse:
    try:
        form = EditForm(request.POST, {"images": request.FILES.getlist("image")})
        valid = form.is_valid()
    except RequestDataTooBig:
        return error(413, "too_large", _("The request body is too large."))
    except TooManyFilesSent:
        return error(400, "too_many", _("The request has too many files."))
    if not valid:
        return _form_error(form)
    edit = submit_edit(
        request.user,
        instruction=form.cleaned_data["instruction"],
        model=form.cleaned_data["model"],
        uploads=form.cleaned_data["images"],
    )
    url = request.build_absolute_uri(reverse("api_edit", args=[edit.pk]))
    return JsonResponse({"id": str(edit.pk), "status": edit.status, "url": url}, status=202)


def _form_error(form: EditForm) -> JsonResponse:
    """The first problem, the way the page would say it; the API names the form's field."""
    field, problems = next(iter(form.errors.as_data().items()))
    problem = problems[0]
    message = " ".join(problem.messages)
    api_field = "image" if field == "images" else field
    return error(400, problem.code or "invalid", message, field=api_field)


def _own_edit(request: HttpRequest, edit_id: UUID) -> Edit | None:
    return (
        Edit.objects.prefetch_related("sources", "results")
        .filter(pk=edit_id, owner=request.user)
        .first()
    )


NOT_FOUND = {"status": 404, "code": "not_found", "message": _lazy("There is no such edit.")}


@token_required
@require_GET
def edit_detail(request: HttpRequest, edit_id: UUID) -> JsonResponse:
    edit = _own_edit(request, edit_id)
    if edit is None:
        return error(**NOT_FOUND)
    return JsonResponse(edit_json(edit, request))


@token_required
@require_POST
def cancel_edit(request: HttpRequest, edit_id: UUID) -> JsonResponse:
    edit = _own_edit(request, edit_id)
    if edit is None:
        return error(**NOT_FOUND)
    if not edit.cancel():
        return error(409, "not_active", _("Only a queued or running edit can be canceled."))
    return JsonResponse(edit_json(edit, request))


@token_required
@require_POST
def retry_edit(request: HttpRequest, edit_id: UUID) -> JsonResponse:
    edit = _own_edit(request, edit_id)
    if edit is None:
        return error(**NOT_FOUND)
    if not edit.requeue():
        return error(409, "not_retryable", _("Only a failed or canceled edit can be retried."))
    enqueue_on_commit(edit)
    return JsonResponse(edit_json(edit, request), status=202)


def edit_json(edit: Edit, request: HttpRequest) -> dict:
    def media_url(kind: str, position: int) -> str:
        return request.build_absolute_uri(reverse("media", args=[edit.pk, kind, position, "full"]))

    return {
        "id": str(edit.pk),
        "status": edit.status,
        "stage": edit.stage,
        "progress": edit.progress,
        "error": (
            {"code": edit.error_code, "message": edit.failure_message, "detail": edit.error_detail}
            if edit.error_code
            else None
        ),
        "instruction": edit.instruction,
        "model": edit.model,
        "sources": [{"url": media_url("source", s.position)} for s in edit.sources.all()],
        "results": [
            {"url": media_url("result", r.position), "width": r.width, "height": r.height}
            for r in edit.results.all()
        ],
        "created": edit.created_at.isoformat(),
        "finished": edit.finished_at.isoformat() if edit.finished_at else None,
    }
