"""A batch: one instruction on many pictures, an edit for each. Its page, its card in the
studio (both refreshed while any of its edits runs), and what its buttons do to all of them."""

import hashlib
from uuid import UUID

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_GET, require_POST

from editor import archives, services
from editor.models import Edit, EditGroup
from studio.http import AuthenticatedHtmxRequest
from webapp.streaming import StreamedFileResponse

from .cards import with_images
from .detail import STARTED_AT


def own_batch(request: AuthenticatedHtmxRequest, group_id: UUID) -> EditGroup:
    """The person's own batch with its edits and their pictures, oldest edit first; 404 for
    anyone else's, as for an edit."""
    edits = Prefetch("edits", with_images(Edit.objects.order_by("created_at")))
    batches = EditGroup.objects.filter(kind=EditGroup.Kind.BATCH).prefetch_related(edits)
    return get_object_or_404(batches, pk=group_id, owner=request.user)


def _on_its_page(request: AuthenticatedHtmxRequest, group_id: UUID) -> bool:
    return request.htmx.current_url_abs_path == reverse("batch_detail", args=[group_id])


def _state_etag(request: AuthenticatedHtmxRequest, group_id: UUID) -> str | None:
    """What a refreshed card or page section shows, summed up in one small query: each edit's
    card state and which result stands for it. Unchanged, it answers 304."""
    mine = Edit.objects.filter(group_id=group_id, group__owner=request.user)
    states = list(mine.order_by("created_at").values_list("pk", "chosen", *Edit.CARD_STATE))
    if not states:
        return None
    seen_as = (states, get_language(), _on_its_page(request, group_id), STARTED_AT)
    return hashlib.blake2s(repr(seen_as).encode(), digest_size=12).hexdigest()


def _section_etag(request: AuthenticatedHtmxRequest, group_id: UUID) -> str | None:
    return _state_etag(request, group_id) if request.htmx else None  # the page: always anew


def _part(request: AuthenticatedHtmxRequest, group: EditGroup) -> HttpResponse:
    """What htmx swaps in: the page's batch section on the batch's page, else its card."""
    if _on_its_page(request, group.pk):
        response = render(request, "studio/batch_detail.html#batch-section", {"group": group})
    else:
        response = render(request, "studio/batch_card.html", {"group": group})
    response["Cache-Control"] = "private, no-cache"  # kept, asked again: unchanged costs a 304
    return response


@require_GET
@condition(etag_func=_section_etag)
def batch_detail(request: AuthenticatedHtmxRequest, group_id: UUID) -> HttpResponse:
    """The batch's page; for htmx, just its section (which refreshes while an edit runs)."""
    group = own_batch(request, group_id)
    if request.htmx:
        return _part(request, group)
    return render(request, "studio/batch_detail.html", {"group": group})


@require_GET
@condition(etag_func=_state_etag)
def batch_card(request: AuthenticatedHtmxRequest, group_id: UUID) -> HttpResponse:
    """The batch's card in the studio's list, as it is now."""
    group = own_batch(request, group_id)
    response = render(request, "studio/batch_card.html", {"group": group})
    response["Cache-Control"] = "private, no-cache"
    return response


def _after_action(request: AuthenticatedHtmxRequest, group_id: UUID) -> HttpResponse:
    if request.htmx:
        return _part(request, own_batch(request, group_id))
    return redirect("batch_detail", group_id=group_id)


@require_POST
def batch_retry_failed(request: AuthenticatedHtmxRequest, group_id: UUID) -> HttpResponse:
    group = own_batch(request, group_id)
    retried = services.retry_failed(group)
    if not retried:
        messages.warning(request, _("None of this batch's edits failed or was canceled."))
    elif not request.htmx:
        messages.success(
            request,
            ngettext("%(n)d edit is queued again.", "%(n)d edits are queued again.", retried)
            % {"n": retried},
        )
    return _after_action(request, group_id)


@require_POST
def batch_cancel_rest(request: AuthenticatedHtmxRequest, group_id: UUID) -> HttpResponse:
    """Cancel each of the batch's edits that is still waiting or running."""
    group = own_batch(request, group_id)
    canceled = sum(services.cancel(edit) for edit in group.edits.all() if edit.is_active)
    if not canceled:
        messages.warning(request, _("All of this batch's edits have already finished."))
    return _after_action(request, group_id)


@require_GET
def batch_download(request: AuthenticatedHtmxRequest, group_id: UUID) -> HttpResponseBase:
    """Every edit's chosen result in one ZIP, written as it is sent (editor/archives.py)."""
    group = own_batch(request, group_id)
    members = archives.batch_members(group)
    if not members:
        messages.info(
            request,
            _("None of this batch's edits has a result yet: there is nothing to download."),
        )
        return redirect("batch_detail", group_id=group_id)
    response = StreamedFileResponse(archives.stream_zip(members), content_type="application/zip")
    filename = f"gaitu-batch-{str(group.pk)[:8]}.zip"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


def batch_delete(request: AuthenticatedHtmxRequest, group_id: UUID) -> HttpResponse:
    """Ask first (GET), then delete the batch, each of its edits and their pictures (POST)."""
    group = own_batch(request, group_id)
    if request.method != "POST":
        return render(request, "studio/batch_delete.html", {"group": group})
    services.delete_group(group)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("The batch, its edits and their pictures are deleted."))
    return redirect("studio")
