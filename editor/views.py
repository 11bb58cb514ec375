import hashlib
import io
import time
from datetime import datetime
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.db.models import Q, prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_POST
from django_htmx.http import reswap, retarget

from .access import requesting_user
from .forms import EditForm
from .image_types import InvalidImage
from .limits import body_too_large, submission_limit
from .live import CARD_STATE
from .models import Edit, ResultImage, Share, SourceImage
from .pipeline import offered_models, submit_edit
from .tasks import enqueue_on_commit

STARTED_AT = time.time()  # part of every card's ETag: a new version renders cards anew
GALLERY_PAGE_SIZE = 24
# Ready-made instructions: a short label, and the instruction it writes.
PRESETS = [
    (
        gettext_lazy("Remove background"),
        gettext_lazy("Remove the background, keep the subject sharp"),
    ),
    (
        gettext_lazy("Blue sky"),
        gettext_lazy("Replace the background with a blue sky and white clouds"),
    ),
    (gettext_lazy("Watercolour"), gettext_lazy("Make it look like a watercolour painting")),
    (gettext_lazy("Anime style"), gettext_lazy("Turn it into an anime-style illustration")),
    (
        gettext_lazy("Restore old photo"),
        gettext_lazy("Restore this old photo: fix scratches, sharpen, add natural colour"),
    ),
    (gettext_lazy("Product on white"), gettext_lazy("Product photo on a clean white background")),
    (gettext_lazy("Black and white"), gettext_lazy("Black and white, high contrast")),
]
RECENT_ON_STUDIO = 8


def studio(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _submit_from_studio(request)
    form = EditForm(owner=request.user, initial={"parent": request.GET.get("again", "")})
    return _render_studio(request, form)


def _render_studio(
    request: HttpRequest, form: EditForm, refusal: str | None = None, status: int = 200
) -> HttpResponse:
    recent = _with_images(Edit.objects.filter(owner=request.user))[:RECENT_ON_STUDIO]
    context = {
        "form": form,
        "edits": recent,
        "refusal": refusal,
        "parent": _parent_of(form),
        "presets": PRESETS,
    }
    return render(request, "editor/studio.html", context, status=status)


def _submit_from_studio(request: HttpRequest) -> HttpResponse:
    refusal, status = None, 400
    if body_too_large(request):
        refusal, status = _("The upload is too large or has too many files."), 413
    elif limit := submission_limit(request.user):
        refusal, status = limit.message, 429
    else:
        try:
            files = {"images": request.FILES.getlist("images")}
            form = EditForm(request.POST, files, owner=request.user)
            if form.is_valid():
                return _submitted(request, form)
        except (RequestDataTooBig, TooManyFilesSent):
            refusal = _("The upload is too large or has too many files.")
    if refusal:
        form = EditForm(owner=request.user)
    if request.htmx:
        context = {"form": form, "refusal": refusal, "parent": _parent_of(form), "presets": PRESETS}
        response = render(request, "editor/studio.html#upload-form", context)
        return reswap(retarget(response, "#upload-form"), "outerHTML")
    return _render_studio(request, form, refusal=refusal, status=status)


def _parent_of(form: EditForm):
    """The result an "edit again" form starts from, to show it in the form."""
    if form.is_bound:
        return form.cleaned_data.get("parent") if hasattr(form, "cleaned_data") else None
    value = form.initial.get("parent")
    if not value:
        return None
    probe = EditForm({"parent": value}, owner=form.owner)
    probe.is_valid()
    return probe.cleaned_data.get("parent")


def _submitted(request: HttpRequest, form: EditForm) -> HttpResponse:
    edit = submit_edit(
        request.user,
        instruction=form.cleaned_data["instruction"],
        model=form.cleaned_data["model"],
        uploads=form.cleaned_data["images"],
        parent=form.cleaned_data["parent"],
    )
    if request.htmx:  # the new card only: the page empties the form itself (gaitu.js)
        prefetch_related_objects([edit], "sources", "results")
        return render(request, "editor/edit_card.html", {"edit": edit})
    return redirect("edit_detail", edit_id=edit.pk)


def model_options(request: HttpRequest) -> HttpResponse:
    """The model picker's options, with what the gateway serves; loaded after the page."""
    models = [(name, name) for name in offered_models(ask_gateway=True)]
    context = {"models": models, "chosen": request.GET.get("model")}
    return render(request, "editor/studio.html#model-options", context)


def _with_images(edits):
    return edits.select_related("share").prefetch_related("sources", "results")


def _own_edit(request: HttpRequest, edit_id: UUID) -> Edit:
    return get_object_or_404(_with_images(Edit.objects), pk=edit_id, owner=request.user)


def _card_etag(request: HttpRequest, edit_id: UUID) -> str | None:
    """What a polled card shows, summed up in one small query: unchanged, it answers 304."""
    if not request.htmx:
        return None
    state = Edit.objects.filter(pk=edit_id, owner=request.user).values_list(*CARD_STATE).first()
    if state is None:
        return None
    seen_as = (state, get_language(), _on_its_page(request, edit_id), STARTED_AT)
    return hashlib.blake2s(repr(seen_as).encode(), digest_size=12).hexdigest()


@condition(etag_func=_card_etag)
def edit_detail(request: HttpRequest, edit_id: UUID) -> HttpResponse:
    """The edit's page; for htmx, just its card (which keeps polling while the edit runs)."""
    if request.htmx:
        response = _card(request, _own_edit(request, edit_id))
        # Kept by the browser, asked again each time: an unchanged card costs a 304.
        response["Cache-Control"] = "private, no-cache"
    else:
        edit = get_object_or_404(
            _with_images(Edit.objects)
            .select_related("parent__edit")
            .prefetch_related("results__children"),
            pk=edit_id,
            owner=request.user,
        )
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
        return _card(request, _own_edit(request, edit.pk))
    return redirect("edit_detail", edit_id=edit.pk)


def _on_its_page(request: HttpRequest, edit_id: UUID) -> bool:
    return request.htmx.current_url_abs_path == reverse("edit_detail", args=[edit_id])


def _card(request: HttpRequest, edit: Edit) -> HttpResponse:
    """An edit's card; on its own page the pictures are full size, elsewhere thumbnails."""
    context = {"edit": edit, "size": "full" if _on_its_page(request, edit.pk) else "thumb"}
    return render(request, "editor/edit_card.html", context)


def gallery(request: HttpRequest) -> HttpResponse:
    """The person's edits, newest first: searchable, filterable, loaded a page at a time.

    A page costs the same at any gallery size: it is one slice of an indexed query, with no
    COUNT over everything (infinite scroll only needs to know whether more follow).
    """
    query = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    model = request.GET.get("model", "")
    chosen = Edit.objects.filter(owner=request.user)
    if query:
        chosen = chosen.filter(instruction__icontains=query)
    if status in Edit.Status.values:
        chosen = chosen.filter(status=status)
    if model:
        chosen = chosen.filter(model=model)
    # Pages continue after the last tile shown (not at an offset), so an edit made while
    # someone scrolls neither repeats a tile nor skips one.
    after = _gallery_cursor(request.GET.get("after", ""))
    chosen = chosen.order_by("-created_at", "-id")
    if after:
        created, pk = after
        chosen = chosen.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
    rows = list(_with_images(chosen)[: GALLERY_PAGE_SIZE + 1])
    shown = rows[:GALLERY_PAGE_SIZE]
    last = shown[-1] if shown else None
    filters = request.GET.copy()
    filters.pop("after", None)
    context = {
        "edits": shown,
        "next_after": f"{last.created_at.isoformat()}_{last.pk}"
        if len(rows) > GALLERY_PAGE_SIZE
        else None,
        "query": query,
        "status": status,
        "model": model,
        "filters": filters.urlencode(),
        "statuses": Edit.Status.choices,
    }
    if request.htmx:
        # The next page of tiles (infinite scroll), or new results for the filters.
        fragment = "tiles" if after else "results"
        return render(request, f"editor/gallery.html#{fragment}", context)
    context["models"] = offered_models()
    return render(request, "editor/gallery.html", context)


def _gallery_cursor(value: str) -> tuple[datetime, UUID] | None:
    created, _sep, pk = value.rpartition("_")
    try:
        return datetime.fromisoformat(created), UUID(pk)
    except ValueError:
        return None


def edit_delete(request: HttpRequest, edit_id: UUID) -> HttpResponse:
    """Ask first (GET), then delete the edit and its pictures (POST)."""
    edit = _own_edit(request, edit_id)
    if request.method != "POST":
        return render(request, "editor/edit_delete.html", {"edit": edit})
    edit.cancel()
    edit.delete_with_files()
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("The edit and its pictures are deleted."))
    return redirect("gallery")


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
    return _picture_response(image, kind, variant, cache="private")


@require_POST
def edit_share(request: HttpRequest, edit_id: UUID) -> HttpResponse:
    edit = _own_edit(request, edit_id)
    if edit.status != Edit.Status.SUCCEEDED:
        messages.warning(request, _("Only a finished edit with a result can be shared."))
    else:
        Share.objects.update_or_create(
            edit=edit,
            defaults={
                "show_original": bool(request.POST.get("show_original")),
                "show_instruction": bool(request.POST.get("show_instruction")),
            },
        )
    return _card_or_page(request, edit)


@require_POST
def edit_unshare(request: HttpRequest, edit_id: UUID) -> HttpResponse:
    edit = _own_edit(request, edit_id)
    Share.objects.filter(edit=edit).delete()
    return _card_or_page(request, edit)


def _shared(token: str) -> Share:
    return get_object_or_404(
        Share.objects.select_related("edit").prefetch_related("edit__sources", "edit__results"),
        token=token,
    )


@login_not_required
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """The public page of a shared result: no login, nothing else of the owner's."""
    share = _shared(token)
    return render(request, "editor/shared.html", {"share": share, "edit": share.edit})


@login_not_required
def shared_media(request: HttpRequest, token: str, kind: str, position: int, variant: str):
    share = _shared(token)
    if kind not in MEDIA_KINDS or variant not in MEDIA_VARIANTS:
        raise Http404
    if kind == "source" and not share.show_original:
        raise Http404
    model = SourceImage if kind == "source" else ResultImage
    image = get_object_or_404(model, edit=share.edit, position=position)
    # Public, but not for shared caches: a revoked link must stop working everywhere.
    return _picture_response(image, kind, variant, cache="no-cache")


def _picture_response(image, kind: str, variant: str, *, cache: str) -> FileResponse:
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


def _picture_file(image: SourceImage | ResultImage):
    """The stored file; an original whose worker has not run yet is cleaned on the way out."""
    if isinstance(image, SourceImage) and not image.metadata_removed:
        return io.BytesIO(image.cleaned_bytes())
    return image.file.open("rb")


def _download_name(image: SourceImage | ResultImage, kind: str) -> str:
    extension = image.file.name.rsplit(".", 1)[-1]
    label = "original" if kind == "source" else "edited"
    suffix = f"-{image.position + 1}" if image.position else ""
    return f"gaitu-{str(image.edit_id)[:8]}-{label}{suffix}.{extension}"
