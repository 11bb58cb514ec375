"""What the studio's pages share: the person's own edit, and its card."""

from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.access import AuthenticatedHttpRequest
from editor.models import Edit, EditGroup
from studio.http import AuthenticatedHtmxRequest, HtmxHttpRequest


def with_images(edits: QuerySet[Edit]) -> QuerySet[Edit]:
    return edits.select_related("share").prefetch_related("sources", "results")


def recent_items(owner: User, count: int) -> list[Edit | EditGroup]:
    """The person's newest edits and groups of edits (batches, comparisons), newest first:
    a group is one item, its edits are not listed on their own."""
    edits = list(with_images(Edit.objects.filter(owner=owner, group=None))[:count])
    groups = list(
        EditGroup.objects.filter(owner=owner)
        .order_by("-created_at")
        .prefetch_related(_group_edits())[:count]
    )
    items: list[Edit | EditGroup] = [*edits, *groups]
    items.sort(key=lambda item: item.created_at, reverse=True)
    return items[:count]


def recent_group(group_id: UUID) -> EditGroup:
    """A group with its edits and their pictures, for its card."""
    return EditGroup.objects.prefetch_related(_group_edits()).get(pk=group_id)


def _group_edits() -> Prefetch:
    return Prefetch("edits", with_images(Edit.objects.order_by("created_at")))


def own_edit(request: AuthenticatedHttpRequest, edit_id: UUID) -> Edit:
    return get_object_or_404(with_images(Edit.objects.all()), pk=edit_id, owner=request.user)


def card_or_page(request: AuthenticatedHtmxRequest, edit: Edit) -> HttpResponse:
    if request.htmx:
        return card(request, own_edit(request, edit.pk))
    return redirect("edit_detail", edit_id=edit.pk)


def on_its_page(request: HtmxHttpRequest, edit_id: UUID) -> bool:
    return request.htmx.current_url_abs_path == reverse("edit_detail", args=[edit_id])


def card(request: HtmxHttpRequest, edit: Edit) -> HttpResponse:
    """An edit's card; on its own page the pictures are full size, elsewhere thumbnails.

    An edit of a comparison is, outside its own page, a column of the comparison's card: the
    live updates, Retry and Cancel ask for it by the edit's id as for any card, and get the
    column back to swap in (studio/comparison_card.html#column).
    """
    own_page = on_its_page(request, edit.pk)
    if edit.group_id is not None and not own_page:
        group = EditGroup.objects.filter(pk=edit.group_id).first()
        if group is not None and group.kind == EditGroup.Kind.COMPARISON:
            column = {"edit": edit, "group": group}
            return render(request, "studio/comparison_card.html#column", column)
    context = {"edit": edit, "size": "full" if own_page else "thumb"}
    return render(request, "studio/edit_card.html", context)


def own_group(request: AuthenticatedHttpRequest, group_id: UUID) -> EditGroup:
    """The person's own group with its edits and their pictures, or 404."""
    try:
        return recent_group(EditGroup.objects.get(pk=group_id, owner=request.user).pk)
    except EditGroup.DoesNotExist:
        raise Http404 from None


def group_card(request: HtmxHttpRequest, group: EditGroup) -> HttpResponse:
    """A comparison's card, the whole of it."""
    return render(request, "studio/comparison_card.html", {"group": group})
