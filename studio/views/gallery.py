"""The gallery: every edit of the person's, searchable, a page at a time."""

from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import render

from editor.gateways import offered_models
from editor.models import Edit
from editor.search import MAX_QUERY, chosen_edits
from studio.http import AuthenticatedHtmxRequest

from .cards import with_images

GALLERY_PAGE_SIZE = 24
# Ready-made instructions: a short label, and the instruction it writes.


def gallery(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """The person's edits, newest first: searchable, filterable, loaded a page at a time.

    A page costs the same at any gallery size: it is one slice of an indexed query, with no
    COUNT over everything (infinite scroll only needs to know whether more follow).
    """
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    status = request.GET.get("status", "")
    model = request.GET.get("model", "")
    after = _gallery_cursor(request.GET.get("after", ""))
    chosen = gallery_edits(request.user, query, status, model, after)
    rows = list(with_images(chosen)[: GALLERY_PAGE_SIZE + 1])
    shown = rows[:GALLERY_PAGE_SIZE]
    next_after = None
    if len(rows) > GALLERY_PAGE_SIZE:  # more follow: the next page starts after this one's last
        next_after = f"{shown[-1].created_at.isoformat()}_{shown[-1].pk}"
    filters = request.GET.copy()
    filters.pop("after", None)
    context: dict[str, object] = {
        "edits": shown,
        "next_after": next_after,
        "query": query,
        "status": status,
        "model": model,
        "filters": filters.urlencode(),
        "statuses": Edit.Status.choices,
    }
    if request.htmx:
        # The next page of tiles (infinite scroll), or new results for the filters.
        fragment = "tiles" if after else "results"
        return render(request, f"studio/gallery.html#{fragment}", context)
    context["models"] = offered_models()
    return render(request, "studio/gallery.html", context)


def gallery_edits(
    owner: User, query: str, status: str, model: str, after: tuple[datetime, UUID] | None
) -> QuerySet[Edit]:
    """The person's edits that the filters choose, newest first, after the cursor if any."""
    chosen = chosen_edits(owner, query, status, model)
    # Pages continue after the last tile shown (not at an offset), so an edit made while
    # someone scrolls neither repeats a tile nor skips one.
    if after:
        created, pk = after
        # The `<=` alone is a range the (owner, -created_at, -id) index seeks to; the OR only
        # settles ties, so a deep page reads no more rows than the first.
        chosen = chosen.filter(Q(created_at__lt=created) | Q(id__lt=pk), created_at__lte=created)
    return chosen


def _gallery_cursor(value: str) -> tuple[datetime, UUID] | None:
    created, _sep, pk = value.rpartition("_")
    try:
        return datetime.fromisoformat(created), UUID(pk)
    except ValueError:
        return None
