from uuid import UUID

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from .access import requesting_user
from .forms import EditForm, OwnerSetupForm
from .models import Edit, ResultImage, SourceImage
from .pipeline import submit_edit
from .tasks import enqueue_on_commit

GALLERY_PAGE_SIZE = 24
RECENT_ON_STUDIO = 8


@login_not_required
def setup(request: HttpRequest) -> HttpResponse:
    """First run: whoever opens a fresh installation creates the owner account."""
    User = get_user_model()
    if User.objects.exists():
        return redirect("login")
    form = OwnerSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if User.objects.select_for_update().exists():
                return redirect("login")
            owner = form.save(commit=False)
            owner.is_staff = owner.is_superuser = True
            owner.save()
        login(request, owner)
        return redirect("studio")
    return render(request, "accounts/setup.html", {"form": form})


@login_not_required
def login_view(request: HttpRequest) -> HttpResponse:
    if not get_user_model().objects.exists():
        return redirect("setup")
    return LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True)(
        request
    )


def studio(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _submit_from_studio(request)
    return _render_studio(request, EditForm())


def _render_studio(request: HttpRequest, form: EditForm, status: int = 200) -> HttpResponse:
    recent = _with_images(Edit.objects.filter(owner=request.user))[:RECENT_ON_STUDIO]
    return render(request, "editor/studio.html", {"form": form, "edits": recent}, status=status)


def _submit_from_studio(request: HttpRequest) -> HttpResponse:
    try:
        form = EditForm(request.POST, {"images": request.FILES.getlist("images")})
        valid = form.is_valid()
    except (RequestDataTooBig, TooManyFilesSent):
        form = EditForm()
        form.add_error(None, _("The upload is too large or has too many files."))
        valid = False
    if not valid:
        if request.htmx:
            response = render(request, "editor/studio.html#upload-form", {"form": form})
            return reswap(retarget(response, "#upload-form"), "outerHTML")
        return _render_studio(request, form, status=400)
    edit = submit_edit(
        request.user,
        instruction=form.cleaned_data["instruction"],
        model=form.cleaned_data["model"],
        uploads=form.cleaned_data["images"],
    )
    if request.htmx:
        return render(request, "editor/studio.html#submitted", {"edit": edit, "form": EditForm()})
    return redirect("edit_detail", edit_id=edit.pk)


def _with_images(edits):
    return edits.prefetch_related("sources", "results")


def _own_edit(request: HttpRequest, edit_id: UUID) -> Edit:
    return get_object_or_404(_with_images(Edit.objects), pk=edit_id, owner=request.user)


def edit_detail(request: HttpRequest, edit_id: UUID) -> HttpResponse:
    """The edit's page; for htmx, just its card (which keeps polling while the edit runs)."""
    edit = _own_edit(request, edit_id)
    if request.htmx:
        response = render(request, "editor/edit_card.html", {"edit": edit})
    else:
        response = render(request, "editor/edit_detail.html", {"edit": edit})
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
def edit_retry(request: HttpRequest, edit_id: UUID) -> HttpResponse:
    edit = _own_edit(request, edit_id)
    if edit.requeue():
        enqueue_on_commit(edit)
    else:
        messages.warning(request, _("Only a failed or canceled edit can be retried."))
    return _card_or_page(request, edit)


@require_POST
def edit_cancel(request: HttpRequest, edit_id: UUID) -> HttpResponse:
    edit = _own_edit(request, edit_id)
    if not edit.cancel():
        messages.warning(request, _("This edit has already finished."))
    return _card_or_page(request, edit)


def _card_or_page(request: HttpRequest, edit: Edit) -> HttpResponse:
    if request.htmx:
        edit.refresh_from_db()
        return render(request, "editor/edit_card.html", {"edit": edit})
    return redirect("edit_detail", edit_id=edit.pk)


def gallery(request: HttpRequest) -> HttpResponse:
    edits = _with_images(Edit.objects.filter(owner=request.user))
    page = Paginator(edits, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "editor/gallery.html", {"page": page})


MEDIA_KINDS = {"source", "result"}
MEDIA_VARIANTS = {"full", "thumb", "download"}
MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@login_not_required
def media(request: HttpRequest, edit_id: UUID, kind: str, position: int, variant: str):
    """A picture of an edit, for its owner only (by session or API token)."""
    user = requesting_user(request)
    if user is None or kind not in MEDIA_KINDS or variant not in MEDIA_VARIANTS:
        raise Http404
    model = SourceImage if kind == "source" else ResultImage
    image = get_object_or_404(model, edit_id=edit_id, edit__owner=user, position=position)
    if variant == "thumb":
        if not image.thumbnail:
            raise Http404
        response = FileResponse(image.thumbnail.open("rb"), content_type="image/webp")
    else:
        response = FileResponse(
            image.file.open("rb"),
            content_type=image.content_type,
            as_attachment=variant == "download",
            filename=_download_name(image, kind),
        )
    # The URL of a stored picture never shows other bytes, so browsers may keep it.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


def _download_name(image: SourceImage | ResultImage, kind: str) -> str:
    extension = image.file.name.rsplit(".", 1)[-1]
    label = "original" if kind == "source" else "edited"
    suffix = f"-{image.position + 1}" if image.position else ""
    return f"gaitu-{str(image.edit_id)[:8]}-{label}{suffix}.{extension}"
