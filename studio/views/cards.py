"""What the studio's pages share: the person's own edit, and its card."""

from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.access import AuthenticatedHttpRequest
from editor.models import Edit
from studio.http import AuthenticatedHtmxRequest, HtmxHttpRequest


def with_images(edits: QuerySet[Edit]) -> QuerySet[Edit]:
    return edits.select_related("share").prefetch_related("sources", "results")


def own_edit(request: AuthenticatedHttpRequest, edit_id: UUID) -> Edit:
    return get_object_or_404(with_images(Edit.objects.all()), pk=edit_id, owner=request.user)


def card_or_page(request: AuthenticatedHtmxRequest, edit: Edit) -> HttpResponse:
    if request.htmx:
        return card(request, own_edit(request, edit.pk))
    return redirect("edit_detail", edit_id=edit.pk)


def on_its_page(request: HtmxHttpRequest, edit_id: UUID) -> bool:
    return request.htmx.current_url_abs_path == reverse("edit_detail", args=[edit_id])


def card(request: HtmxHttpRequest, edit: Edit) -> HttpResponse:
    """An edit's card; on its own page the pictures are full size, elsewhere thumbnails."""
    context = {"edit": edit, "size": "full" if on_its_page(request, edit.pk) else "thumb"}
    return render(request, "studio/edit_card.html", context)
