"""One edit: its page, its card (polled while it runs), and what its buttons do."""

import hashlib
import time
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_POST

from editor import services
from editor.models import Edit
from studio.http import AuthenticatedHtmxRequest

from .cards import card, card_or_page, on_its_page, own_edit, with_images

STARTED_AT = time.time()  # part of every card's ETag: a new version renders cards anew


def _card_etag(request: AuthenticatedHtmxRequest, edit_id: UUID) -> str | None:
    """What a polled card shows, summed up in one small query: unchanged, it answers 304."""
    if not request.htmx:
        return None
    mine = Edit.objects.filter(pk=edit_id, owner=request.user)
    # Beside what a running card shows: the result picked, and a comparison column's winner.
    state = mine.values_list(*Edit.CARD_STATE, "chosen", "group__winner").first()
    if state is None:
        return None
    seen_as = (state, get_language(), on_its_page(request, edit_id), STARTED_AT)
    return hashlib.blake2s(repr(seen_as).encode(), digest_size=12).hexdigest()


@condition(etag_func=_card_etag)
def edit_detail(request: AuthenticatedHtmxRequest, edit_id: UUID) -> HttpResponse:
    """The edit's page; for htmx, just its card (which keeps polling while the edit runs)."""
    if request.htmx:
        response = card(request, own_edit(request, edit_id))
        # Kept by the browser, asked again each time: an unchanged card costs a 304.
        response["Cache-Control"] = "private, no-cache"
    else:
        edit = get_object_or_404(
            with_images(Edit.objects.all())
            .select_related("parent__edit")
            .prefetch_related("results__children"),
            pk=edit_id,
            owner=request.user,
        )
        response = render(request, "studio/edit_detail.html", {"edit": edit})
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
def edit_retry(request: AuthenticatedHtmxRequest, edit_id: UUID) -> HttpResponse:
    edit = own_edit(request, edit_id)
    if not services.retry(edit):
        messages.warning(request, _("Only a failed or canceled edit can be retried."))
    return card_or_page(request, edit)


@require_POST
def edit_cancel(request: AuthenticatedHtmxRequest, edit_id: UUID) -> HttpResponse:
    edit = own_edit(request, edit_id)
    if not services.cancel(edit):
        messages.warning(request, _("This edit has already finished."))
    return card_or_page(request, edit)


def edit_delete(request: AuthenticatedHtmxRequest, edit_id: UUID) -> HttpResponse:
    """Ask first (GET), then delete the edit and its pictures (POST)."""
    edit = own_edit(request, edit_id)
    if request.method != "POST":
        return render(request, "studio/edit_delete.html", {"edit": edit})
    services.delete(edit)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("The edit and its pictures are deleted."))
    return redirect("gallery")
