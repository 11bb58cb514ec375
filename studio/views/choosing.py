"""Picking: which of an edit's results stands for it, and which model won a comparison."""

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from editor import services
from editor.models import Edit
from studio.http import AuthenticatedHtmxRequest

from .cards import card_or_page, group_card, own_edit, own_group


@require_POST
def choose_result(request: AuthenticatedHtmxRequest, edit_id: UUID, position: int) -> HttpResponse:
    """Make one of the edit's results the one its downloads, sharing and "edit again" use."""
    edit = own_edit(request, edit_id)
    if not services.choose_result(edit, position):
        # A stale page (the edit retried since) or a hand-made request: said, not guessed at.
        return HttpResponse(_("This edit has no such result."), status=400)
    return card_or_page(request, edit)


@require_POST
def choose_winner(request: AuthenticatedHtmxRequest, group_id: UUID, edit_id: UUID) -> HttpResponse:
    """Make one model's edit the comparison's winner."""
    group = own_group(request, group_id)
    edit = get_object_or_404(Edit, pk=edit_id, group=group)
    if not services.choose_winner(group, edit):
        return HttpResponse(_("Only a model that made a picture can win."), status=400)
    if not request.htmx:
        messages.success(request, _("The winner is picked."))
        return redirect("studio")
    return group_card(request, own_group(request, group_id))
