"""Live updates of running edits: server-sent events from an async view.

The page opens one stream for the edits it shows running. Whenever what an edit's card shows
changes, the stream names the edit (`event: edit`, the id as data) and the page asks for that
card, as it would have when polling; the stream ends (`event: done`) once none of them runs.
Waiting holds no thread: the view is async and waits in the event loop.

It looks at its edits when the database has changed, as a change feed tells (live/feeds.py).
"""

import time
from collections.abc import AsyncIterator
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.access import AuthenticatedHttpRequest
from editor.models import Edit

from .feeds import change_feed

LOOK_AT_LEAST_EVERY = 1.0  # seconds: a stream looks at least this often, whatever its feed says
KEEP_ALIVE_EVERY = 15.0  # a comment line, so proxies keep an idle stream open
MAX_WATCHED = 100


@require_GET
async def edit_events(
    request: AuthenticatedHttpRequest,
) -> HttpResponse | StreamingHttpResponse:
    """`?ids=<uuid>,<uuid>…`: the requesting person's edits to follow."""
    user = await request.auser()
    try:
        ids = [UUID(value) for value in request.GET.get("ids", "").split(",") if value]
    except ValueError:
        return HttpResponse(_("ids must be edit ids, separated by commas."), status=400)
    watched = Edit.objects.filter(owner=user, pk__in=ids[:MAX_WATCHED])
    response = StreamingHttpResponse(_events(watched), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold events back
    return response


async def _events(watched: QuerySet[Edit]) -> AsyncIterator[str]:
    changes = change_feed()
    changes.streams += 1  # the feed watches while any stream listens
    try:
        ticket = changes.next_change()  # taken before each look: a change while looking counts
        seen = await _states(watched)
        yield "retry: 1000\n\n"  # after a dropped connection, the browser comes back in a second
        last_sent = time.monotonic()
        while any(state[0] in Edit.ACTIVE for state in seen.values()):
            await changes.after(ticket, LOOK_AT_LEAST_EVERY)
            ticket = changes.next_change()
            now = await _states(watched)
            changed = [pk for pk, state in now.items() if seen.get(pk) != state]
            seen = now
            for pk in changed:
                yield f"event: edit\ndata: {pk}\n\n"
            if changed:
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= KEEP_ALIVE_EVERY:
                yield ": still running\n\n"
                last_sent = time.monotonic()
        yield "event: done\ndata: \n\n"
    finally:
        changes.streams -= 1


async def _states(watched: QuerySet[Edit]) -> dict[UUID, tuple]:
    return {pk: tuple(state) async for pk, *state in watched.values_list("pk", *Edit.CARD_STATE)}
