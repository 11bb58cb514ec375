"""The studio: upload pictures (or none, to create from the words), say what should change,
watch the edits come in."""

import json
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.db import DatabaseError
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import reswap, retarget

from editor.forms import MODE_BATCH, MODE_COMPARE, MODE_SINGLE, EditForm
from editor.gateways import offered_models
from editor.limits import (
    body_too_large,
    storage_failure,
    storage_refusal,
    submission_limit,
    upload_too_large_message,
)
from editor.model_options import offered_options
from editor.models import EditGroup, ResultImage
from gateway.options import MAX_SIDE, MIN_SIDE
from studio.http import AuthenticatedHtmxRequest

from .cards import recent_group, recent_items

RECENT_ON_STUDIO = 8

# The mode switch's words: shorter than the form's own choices, as they sit side by side.
MODE_CHOICES = [
    (MODE_SINGLE, gettext_lazy("One edit")),
    (MODE_COMPARE, gettext_lazy("Compare models")),
    (MODE_BATCH, gettext_lazy("Batch")),
]


def studio(request: AuthenticatedHtmxRequest) -> HttpResponse:
    if request.method == "POST":
        return _submit_from_studio(request)
    form = EditForm(owner=request.user, initial={"parent": request.GET.get("again", "")})
    return _render_studio(request, form)


def _render_studio(
    request: AuthenticatedHtmxRequest,
    form: EditForm,
    refusal: str | None = None,
    status: int = 200,
    *,
    pictures_not_kept: bool = False,
) -> HttpResponse:
    context = {
        "form": form,
        "items": recent_items(request.user, RECENT_ON_STUDIO),
        "refusal": refusal,
        "pictures_not_kept": pictures_not_kept,
        "parent": _parent_of(form),
        "model_offers": json.dumps(offers_of(offered_models())),
        "make_mode": _mode_of(form),
        "mode_choices": MODE_CHOICES,
        # What the chosen model honours, so that the page opens with only those options shown.
        "offers": offered_options(str(form["model"].value() or settings.GAITU_MODELS[0])),
        "min_side": MIN_SIDE,
        "max_side": MAX_SIDE,
    }
    return render(request, "studio/studio.html", context, status=status)


def _submit_from_studio(request: AuthenticatedHtmxRequest) -> HttpResponse:
    refusal, status = None, 400
    pictures_sent: bool | None = None  # None: the body has not been read
    if body_too_large(request):  # webapp/request_limits.py refuses it first; this is a fallback
        refusal, status, pictures_sent = upload_too_large_message(), 413, True
    elif limit := submission_limit(request.user):
        refusal, status = limit.message, 429
    elif no_room := storage_refusal(request.user):
        refusal, status = no_room.message, 507
    else:
        pictures_sent = True
        try:
            files: dict[str, object] = {"images": request.FILES.getlist("images")}
            if "mask" in request.FILES:  # painted on the first picture (static/gaitu/mask.js)
                files["mask"] = request.FILES["mask"]
            pictures_sent = bool(files["images"])
            form = EditForm(request.POST, files, owner=request.user)
            if form.is_valid():
                return _submitted(request, form)
            if form.has_error("images", "file_too_large"):
                status = 413
        except (RequestDataTooBig, TooManyFilesSent):
            refusal = _("The upload is too large or has too many files.")
        except (OSError, DatabaseError) as exc:
            # The disk filled up while storing: nothing of the edit was kept (services.submit).
            if not (no_room := storage_failure(exc)):
                raise
            refusal, status = no_room.message, 507
    if refusal:
        form = _form_kept(request, keep_text=status != 413)
    if request.htmx:
        return _refused_in_place(request, form, refusal)
    # A page sent again cannot hold the files a person chose: say so beside what was kept.
    not_kept = _pictures_sent(request) if pictures_sent is None else pictures_sent
    return _render_studio(request, form, refusal=refusal, status=status, pictures_not_kept=not_kept)


def _refused_in_place(
    request: AuthenticatedHtmxRequest, form: EditForm, refusal: str | None
) -> HttpResponse:
    """htmx's answer to a refused submission: why, in the form's feedback region, and each
    field's errors next to it (out of band, emptying old ones). The form itself is left alone,
    so the pictures chosen, their previews and the instruction are there to send again.

    htmx swaps no 4xx answer: it comes as 200, retargeted from the list of edits.
    """
    context = {"form": form, "refusal": refusal, "oob": True}
    response = render(request, "studio/studio.html#upload-feedback", context)
    return reswap(retarget(response, "#upload-feedback"), "outerHTML")


def upload_refused(request: AuthenticatedHtmxRequest, refusal: str) -> HttpResponse:
    """htmx's answer to an upload too large to read (webapp/request_limits.py): said in the
    form, as for any refused submission, which keeps the pictures to remove one and send again.

    It is given before the view's own checks (two-factor sign-in among them) have run, so it
    holds nothing of the person's own.
    """
    return _refused_in_place(request, EditForm(owner=request.user), refusal)


def _pictures_sent(request: AuthenticatedHtmxRequest) -> bool:
    try:
        return bool(request.FILES.getlist("images"))
    except (RequestDataTooBig, TooManyFilesSent):
        return True


# What a refused submission keeps of the form (beside the models to compare, a list).
KEPT_FIELDS = (
    "instruction", "model", "parent", "image_url", "mode", "size", "width", "height", "n", "quality"
)  # fmt: skip


def _form_kept(request: AuthenticatedHtmxRequest, *, keep_text: bool) -> EditForm:
    """A fresh form for a refused submission that keeps what the person wrote (a body too large
    to read keeps nothing); their pictures must be chosen again."""
    if not keep_text:
        return EditForm(owner=request.user)
    kept: dict[str, object] = {name: request.POST.get(name, "") for name in KEPT_FIELDS}
    kept["models"] = request.POST.getlist("models")
    return EditForm(owner=request.user, initial=kept)


def _mode_of(form: EditForm) -> str:
    """The mode the form is in (a refused one keeps its own), for the page to open in."""
    mode = form["mode"].value()
    return mode if mode in (MODE_COMPARE, MODE_BATCH) else MODE_SINGLE


def _parent_of(form: EditForm) -> ResultImage | None:
    """The result an "edit again" form starts from, to show it in the form."""
    if form.is_bound:
        return form.cleaned_data.get("parent") if hasattr(form, "cleaned_data") else None
    value = form.initial.get("parent")
    if not value:
        return None
    probe = EditForm({"parent": value}, owner=form.owner)
    probe.is_valid()
    return probe.cleaned_data.get("parent")


def _submitted(request: AuthenticatedHtmxRequest, form: EditForm) -> HttpResponse:
    item = form.submit()
    if request.htmx:  # the new card only: the page empties the form itself (upload.js)
        if isinstance(item, EditGroup):
            group = recent_group(item.pk)
            return render(request, "studio/list_item.html", {"item": group})
        prefetch_related_objects([item], "sources", "results")
        return render(request, "studio/list_item.html", {"item": item})
    if isinstance(item, EditGroup):
        return redirect("studio")
    return redirect("edit_detail", edit_id=item.pk)


def model_options(request: HttpRequest) -> HttpResponse:
    """The model picker's options, with what the gateway serves; loaded after the page."""
    names = offered_models(ask_gateway=True)
    context = {"models": [(name, name) for name in names], "chosen": request.GET.get("model")}
    response = render(request, "studio/studio.html#model-options", context)
    # What the gateway's own models offer comes with them, for the page to add to the form's.
    response["HX-Trigger"] = json.dumps({"gaitu:model-offers": {"offers": offers_of(names)}})
    return response


def offers_of(models: Iterable[str]) -> dict[str, dict[str, bool]]:
    """What the studio offers for each model (editor/model_options.py), for the page to show
    only the options the chosen model honours (make-options.js)."""
    return {name: offered_options(name) for name in models}
