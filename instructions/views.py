"""A person's own instructions (star, forget, the list of them) and the owner's ready-made
list. Every action is a plain form POST that comes back to the page it was sent from; the
studio's picker sends the same POSTs with htmx and is drawn again in place."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import owner_only
from studio.http import AuthenticatedHtmxRequest
from webapp.forms import MoveForm

from . import services
from .forms import ReadyInstructionForm, StarForm
from .models import ReadyInstruction, SavedInstruction
from .templatetags.instructions import picker_context

# --- The person's own ----------------------------------------------------------------------


@require_GET
def my_instructions(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Every instruction the person keeps, starred first: the picker's list, with no script."""
    mine = SavedInstruction.objects.filter(owner=request.user).order_by(
        "-starred", "-last_used_at", "-id"
    )
    context = {"saved": mine, "keep": services.KEEP_UNSTARRED}
    return render(request, "instructions/mine.html", context)


@require_GET
def picker(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """The studio's picker alone, drawn again after an edit was sent (instructions.js)."""
    return render(request, "instructions/picker.html", picker_context(request))


@require_POST
def star(request: AuthenticatedHtmxRequest, saved_id: int) -> HttpResponse:
    saved = get_object_or_404(SavedInstruction, pk=saved_id, owner=request.user)
    form = StarForm(request.POST)
    form.is_valid()  # one optional box: always valid, absent meaning "not starred"
    services.set_starred(saved, form.cleaned_data["starred"])
    return _back(request)


@require_POST
def forget(request: AuthenticatedHtmxRequest, saved_id: int) -> HttpResponse:
    saved = get_object_or_404(SavedInstruction, pk=saved_id, owner=request.user)
    services.forget(saved)
    if not request.htmx:
        messages.success(request, _("Forgotten: %(text)s") % {"text": saved.text[:80]})
    return _back(request)


def _back(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """htmx (the studio's picker): the picker again. A plain form: back where it came from."""
    if request.htmx:
        return render(request, "instructions/picker.html", picker_context(request))
    going = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        going, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        going = ""
    return redirect(going or "my_instructions")


# --- The owner's ready-made list -----------------------------------------------------------


@owner_only
@require_http_methods(["GET", "POST"])
def ready_list(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """The ready-made instructions in order, to move, edit or delete, and a form to add one."""
    form = ReadyInstructionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        item = form.save(commit=False)
        item.position = services.next_position()
        item.save()
        messages.success(request, _("Added “%(label)s”.") % {"label": item.label_en})
        return redirect("ready_instructions")
    items = list(ReadyInstruction.objects.all())
    context = {"items": items, "form": form}
    return render(
        request, "instructions/ready_list.html", context, status=400 if form.errors else 200
    )


@owner_only
@require_http_methods(["GET", "POST"])
def ready_edit(request: AuthenticatedHtmxRequest, ready_id: int) -> HttpResponse:
    item = get_object_or_404(ReadyInstruction, pk=ready_id)
    form = ReadyInstructionForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved “%(label)s”.") % {"label": item.label_en})
        return redirect("ready_instructions")
    context = {"item": item, "form": form}
    return render(
        request, "instructions/ready_edit.html", context, status=400 if form.errors else 200
    )


@owner_only
@require_POST
def ready_move(request: AuthenticatedHtmxRequest, ready_id: int) -> HttpResponse:
    item = get_object_or_404(ReadyInstruction, pk=ready_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        services.move(item, up=form.cleaned_data["direction"] == "up")
    return redirect("ready_instructions")


@owner_only
@require_POST
def ready_delete(request: AuthenticatedHtmxRequest, ready_id: int) -> HttpResponse:
    item = get_object_or_404(ReadyInstruction, pk=ready_id)
    item.delete()
    messages.success(request, _("Deleted “%(label)s”.") % {"label": item.label_en})
    return redirect("ready_instructions")
