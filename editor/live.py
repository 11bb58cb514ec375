"""Live updates of running edits: server-sent events from an async view.

The page opens one stream for the edits it shows running. Whenever what an edit's card shows
changes, the stream names the edit (`event: edit`, the id as data) and the page asks for that
card, as it would have when polling; the stream ends (`event: done`) once none of them runs.
Waiting holds no thread: the view is async and waits in the event loop.

It looks at its edits when the database has changed. SQLite counts the commits of other
connections (PRAGMA data_version); one task per process reads that count every 10 ms, which
costs microseconds, and wakes the streams. With another database, streams look every 50 ms.
"""

import asyncio
import contextlib
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .models import Edit

# What a card shows of an edit while it runs; it changes exactly when the card would.
CARD_STATE = ("status", "stage", "progress", "gateway_attempt", "error_code", "share__token")
WATCH_EVERY = 0.01  # seconds between reads of SQLite's commit count
LOOK_EVERY = 0.05  # seconds between looks when the database cannot tell of changes
LOOK_AT_LEAST_EVERY = 1.0  # and at the least this often, whatever it tells
KEEP_ALIVE_EVERY = 15.0  # a comment line, so proxies keep an idle stream open
MAX_WATCHED = 100


@require_GET
async def edit_events(request: HttpRequest) -> HttpResponse:
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


async def _events(watched) -> AsyncIterator[str]:
    changes = _changes()
    changes.streams += 1
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


async def _states(watched) -> dict[UUID, tuple]:
    return {pk: tuple(state) async for pk, *state in watched.values_list("pk", *CARD_STATE)}


class _Changes:
    """When the database may have changed, for the streams of one event loop.

    next_change() is a ticket (an event) that the next change sets; after() waits for it.
    """

    def __init__(self, database: Path | None):
        self.database = database
        self.streams = 0
        self._next = asyncio.Event()
        self._watching: asyncio.Task | None = None

    def next_change(self) -> asyncio.Event:
        if self.database and (self._watching is None or self._watching.done()):
            self._watching = asyncio.create_task(self._watch())
        return self._next

    async def after(self, ticket: asyncio.Event, timeout: float) -> None:
        if self.database is None:
            timeout = min(timeout, LOOK_EVERY)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ticket.wait(), timeout)

    async def _watch(self) -> None:
        reader = sqlite3.connect(f"{self.database.as_uri()}?mode=ro", uri=True)
        try:
            version = reader.execute("PRAGMA data_version").fetchone()[0]
            while self.streams:
                await asyncio.sleep(WATCH_EVERY)
                now = reader.execute("PRAGMA data_version").fetchone()[0]
                if now != version:
                    version = now
                    self._next.set()
                    self._next = asyncio.Event()
        finally:
            reader.close()


_changes_by_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Changes]" = (
    weakref.WeakKeyDictionary()
)


def _changes() -> _Changes:
    loop = asyncio.get_running_loop()
    if loop not in _changes_by_loop:
        name = str(connection.settings_dict["NAME"])
        on_disk = connection.vendor == "sqlite" and Path(name).is_file()
        _changes_by_loop[loop] = _Changes(Path(name).resolve() if on_disk else None)
    return _changes_by_loop[loop]
