"""Live updates of running edits: server-sent events from an async view.

The page opens one stream for the edits it shows running. Whenever what an edit's card shows
changes, the stream names the edit (`event: edit`, the id as data) and the page asks for that
card, as it would have when polling; the stream ends (`event: done`) once none of them runs.

An open stream holds no thread and no database connection: it waits in the event loop for
the process's one hub (live/hub.py) to tell it of a change, and the thread Django gave the
request for its start (the session, the ownership check) is let go before the first event.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from uuid import UUID

from asgiref.sync import SyncToAsync, sync_to_async
from django.db import connections
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.access import AuthenticatedHttpRequest
from editor.models import Edit

from .hub import CardState, hub_for_this_loop, read_card_states

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
    own = Edit.objects.filter(owner=user, pk__in=ids[:MAX_WATCHED])
    seen = await sync_to_async(read_card_states)(own)  # the states the stream starts from
    response = StreamingHttpResponse(_events(seen), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold events back
    return response


async def _events(seen: Mapping[UUID, CardState]) -> AsyncIterator[str]:
    await _let_go_of_the_request_thread()
    hub = hub_for_this_loop()
    follower = hub.follow(seen)
    try:
        yield "retry: 1000\n\n"  # after a dropped connection, the browser comes back in a second
        while follower.follows_running():
            changed = await follower.news()
            if changed is None:  # a comment line, so that proxies keep an idle stream open
                yield ": still running\n\n"
            for pk in changed or ():
                yield f"event: edit\ndata: {pk}\n\n"
        yield "event: done\ndata: \n\n"
    finally:
        hub.unfollow(follower)


async def _let_go_of_the_request_thread() -> None:
    """Close the request's database connection and end its thread, for a stream's life.

    Django runs each ASGI request in asgiref's ThreadSensitiveContext: the first sync call
    (the middleware's session load) starts a thread for that request alone, whose database
    connection stays open in it, and both last until the response has been sent: for a
    stream, as long as it is open. This runs once the middleware has answered too (the body
    is iterated after the headers are sent). What the request still runs in a thread, at its
    very end (response.close), gets a fresh one for that moment. Outside an ASGI request
    (Django's test client) there is no such thread, and nothing to do.
    """
    context = SyncToAsync.thread_sensitive_context.get(None)
    executor = SyncToAsync.context_to_thread_executor.pop(context, None) if context else None
    if executor is None:
        return
    try:
        await asyncio.wrap_future(executor.submit(connections.close_all))
    finally:
        executor.shutdown(wait=False)
