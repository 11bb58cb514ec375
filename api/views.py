"""The JSON API (`/api/v1/`), for scripts. Authenticated by API token only, never by cookie,
which is why its views are exempt from CSRF. Described in openapi.py."""

from collections.abc import Callable
from functools import wraps
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.core.paginator import EmptyPage, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import bearer_token
from accounts.models import ApiToken
from editor import services
from editor.forms import EditForm
from editor.gateways import offered_models
from editor.limits import body_too_large, submission_limit
from editor.models import Edit, Share

from .openapi import openapi_document

PAGE_SIZE = 20


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


def with_own_edit(view: Callable) -> Callable:
    """Give the view the requester's edit, or answer 404 (also for other people's edits)."""

    @wraps(view)
    def wrapper(request: HttpRequest, edit_id: UUID):
        edit = (
            Edit.objects.prefetch_related("sources", "results")
            .select_related("share")
            .filter(pk=edit_id, owner=request.user)
            .first()
        )
        if edit is None:
            return error(404, "not_found", _("There is no such edit."))
        return view(request, edit)

    return wrapper


@token_required
@require_http_methods(["GET", "POST"])
def edits(request: HttpRequest) -> JsonResponse:
    return create_edit(request) if request.method == "POST" else list_edits(request)


def list_edits(request: HttpRequest) -> JsonResponse:
    chosen = Edit.objects.filter(owner=request.user).prefetch_related("sources", "results")
    status = request.GET.get("status")
    if status:
        if status not in Edit.Status.values:
            choices = ", ".join(Edit.Status.values)
            return error(400, "invalid", _("status must be one of: %s") % choices, field="status")
        chosen = chosen.filter(status=status)
    paginator = Paginator(chosen.select_related("share"), PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, ValueError):
        return error(404, "not_found", _("There is no such page."), field="page")
    return JsonResponse(
        {
            "results": [edit_json(edit, request) for edit in page],
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
        }
    )


def create_edit(request: HttpRequest) -> JsonResponse:
    if body_too_large(request):
        return error(413, "too_large", _("The request body is too large."))
    if limit := submission_limit(request.user):
        response = error(429, limit.code, limit.message, retry_after=limit.retry_after)
        response["Retry-After"] = str(limit.retry_after)
        return response
    try:
        files = {"images": request.FILES.getlist("image")}
        form = EditForm(request.POST, files, owner=request.user)
        valid = form.is_valid()
    except RequestDataTooBig:
        return error(413, "too_large", _("The request body is too large."))
    except TooManyFilesSent:
        return error(400, "too_many", _("The request has too many files."))
    if not valid:
        return _form_error(form)
    edit = services.submit(
        request.user,
        instruction=form.cleaned_data["instruction"],
        model=form.cleaned_data["model"],
        uploads=form.cleaned_data["images"],
        parent=form.cleaned_data["parent"],
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


@token_required
@require_http_methods(["GET", "DELETE"])
@with_own_edit
def edit_detail(request: HttpRequest, edit: Edit) -> HttpResponse:
    if request.method == "DELETE":
        services.delete(edit)
        return HttpResponse(status=204)
    return JsonResponse(edit_json(edit, request))


@token_required
@require_POST
@with_own_edit
def cancel_edit(request: HttpRequest, edit: Edit) -> JsonResponse:
    if not services.cancel(edit):
        return error(409, "not_active", _("Only a queued or running edit can be canceled."))
    return JsonResponse(edit_json(edit, request))


@token_required
@require_POST
@with_own_edit
def retry_edit(request: HttpRequest, edit: Edit) -> JsonResponse:
    if not services.retry(edit):
        return error(409, "not_retryable", _("Only a failed or canceled edit can be retried."))
    return JsonResponse(edit_json(edit, request), status=202)


@token_required
@require_http_methods(["POST", "DELETE"])
@with_own_edit
def share_edit(request: HttpRequest, edit: Edit) -> HttpResponse:
    """POST makes (or updates) the public link; DELETE revokes it."""
    if request.method == "DELETE":
        services.unshare(edit)
        return HttpResponse(status=204)
    shared = services.share(
        edit,
        show_original=_flag(request.POST.get("show_original"), True),
        show_instruction=_flag(request.POST.get("show_instruction"), True),
    )
    if shared is None:
        return error(409, "not_shareable", _("Only a finished edit with a result can be shared."))
    share, created = shared
    return JsonResponse(share_json(share, request), status=201 if created else 200)


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@token_required
@require_GET
def models(request: HttpRequest) -> JsonResponse:
    models = offered_models(ask_gateway=True)
    return JsonResponse({"models": models, "default": settings.GAITU_MODELS[0]})


@login_not_required
@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document(request.build_absolute_uri("/api/v1")))


def share_json(share: Share, request: HttpRequest) -> dict:
    return {
        "url": request.build_absolute_uri(reverse("shared", args=[share.token])),
        "show_original": share.show_original,
        "show_instruction": share.show_instruction,
        "created": share.created_at.isoformat(),
    }


def edit_json(edit: Edit, request: HttpRequest) -> dict:
    def media_url(kind: str, position: int) -> str:
        return request.build_absolute_uri(reverse("media", args=[edit.pk, kind, position, "full"]))

    share = getattr(edit, "share", None)
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
        "share": share_json(share, request) if share else None,
        "created": edit.created_at.isoformat(),
        "finished": edit.finished_at.isoformat() if edit.finished_at else None,
    }
