"""The hub: one per process (per event loop), it follows the edits of every open stream.

An open stream costs a future while it waits and the states it last told, nothing more. The hub
reads the card state (Edit.CARD_STATE) of every followed edit in one query, whenever its
change feed (live/feeds.py) says the database may have changed and at least every second,
and wakes exactly the streams one of whose edits changed (and, every 15 s, those that have
had nothing to say, so that they say they are still there). It reads in a thread of its own, so
on one database connection of its own (Django's are per thread), however many streams are
open. It runs while any stream follows a running edit: the last one to go stops it, and its
thread, connection and feed go with it.
"""

import asyncio
import contextvars
import logging
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from django.db import connections
from django.db.models import QuerySet

from editor.models import Edit

from .feeds import ChangeFeed, feed_for_the_database

logger = logging.getLogger(__name__)

LOOK_AT_LEAST_EVERY = 1.0  # seconds: the hub reads at least this often, whatever its feed says
KEEP_ALIVE_EVERY = 15.0  # seconds a stream may go without a word before it says a comment line
# Followed edits read in one query, at most: well under the bound parameters SQLite (32,766)
# and PostgreSQL (65,535) take; beyond it (a hundred tabs of a hundred edits each), more.
IDS_PER_QUERY = 10_000

CardState = tuple[Any, ...]  # an edit's values of Edit.CARD_STATE


def read_card_states(edits: QuerySet[Edit]) -> dict[UUID, CardState]:
    """What the card of each of these edits shows; an edit that is gone is missing."""
    return {pk: tuple(state) for pk, *state in edits.values_list("pk", *Edit.CARD_STATE)}


def read_followed(ids: Collection[UUID]) -> dict[UUID, CardState]:
    """The hub's read: the card states of all these edits, in one query for up to 10,000."""
    ordered = sorted(ids)
    states: dict[UUID, CardState] = {}
    for start in range(0, len(ordered), IDS_PER_QUERY):
        batch = ordered[start : start + IDS_PER_QUERY]
        states |= read_card_states(Edit.objects.filter(pk__in=batch).order_by())
    return states


class Follower:
    """One open stream, as the hub sees it: its edits, what it last told of them, and a future
    while it waits. Slots and no timer of its own: a thousand of them are a thousand of this."""

    __slots__ = ("_changed", "_keep_alive", "_told", "_waiter", "ids", "seen", "told_at")

    def __init__(self, seen: Mapping[UUID, CardState]):
        self.ids = tuple(seen)  # only the person's own edits, checked when the stream began
        self.seen = dict(seen)  # an edit that was deleted drops out
        self.told_at = 0.0  # the event loop's time when it last had something to say
        self._changed: list[UUID] = []
        self._told = False  # of a change since the last news()
        self._keep_alive = False  # time to say it is still there
        self._waiter: asyncio.Future[None] | None = None

    def follows_running(self) -> bool:
        return any(state[0] in Edit.ACTIVE for state in self.seen.values())

    async def news(self) -> list[UUID] | None:
        """Once the hub has something for this stream: the edits whose card changed (none when
        only a deleted edit dropped out), or None when it is time to say it is still there."""
        if not (self._told or self._keep_alive):
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        told, self._told, self._keep_alive = self._told, False, False
        if not told:
            return None
        changed, self._changed = self._changed, []
        return changed

    def tell(self, states: Mapping[UUID, CardState], now: float) -> None:
        """Compare what the hub read with what this stream last told; wake it on a difference."""
        states_now = {pk: states[pk] for pk in self.ids if pk in states}
        if states_now == self.seen:
            return
        for pk, state in states_now.items():
            if self.seen.get(pk) != state and pk not in self._changed:
                self._changed.append(pk)
        self.seen = states_now
        self._told, self.told_at = True, now
        self._wake()

    def keep_alive(self, now: float) -> None:
        self._keep_alive, self.told_at = True, now
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class HubThread:
    """The hub's one thread, and so its one database connection; both end at close()."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-hub")

    async def run[T](self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, *args)

    async def close(self) -> None:
        try:
            await self.run(connections.close_all)
        finally:
            self._executor.shutdown(wait=False)


class Hub:
    """The followed edits of every open stream of one event loop (see the module's doc)."""

    def __init__(
        self,
        open_feed: Callable[[], ChangeFeed] | None = None,  # None: the database's own
        read: Callable[[Collection[UUID]], dict[UUID, CardState]] = read_followed,
    ):
        self._open_feed = open_feed or feed_for_the_database
        self._read = read
        self._followers: set[Follower] = set()
        self._by_edit: dict[UUID, set[Follower]] = {}
        self._unchecked: set[Follower] = set()  # came since the last read began
        self._last: dict[UUID, CardState | None] = {}  # as last read; None: gone
        self._task: asyncio.Task[None] | None = None
        self._keep_alives_looked_at = 0.0

    @property
    def following(self) -> int:
        """How many streams it follows."""
        return len(self._followers)

    @property
    def followed_edits(self) -> int:
        """How many edits, of all its streams together, it reads."""
        return len(self._by_edit)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def follow(self, seen: Mapping[UUID, CardState]) -> Follower:
        """A stream's edits, with the states it starts from; it is woken when they change.

        A stream with nothing running has nothing to hear of, and is not followed.
        """
        follower = Follower(seen)
        if not follower.follows_running():
            return follower
        follower.told_at = asyncio.get_running_loop().time()
        self._followers.add(follower)
        self._unchecked.add(follower)
        for pk in follower.ids:
            self._by_edit.setdefault(pk, set()).add(follower)
        if self._task is None:
            # A context of its own: the hub serves every stream, not the request it began in.
            self._task = asyncio.create_task(self._run(), context=contextvars.Context())
        return follower

    def unfollow(self, follower: Follower) -> None:
        """The stream has ended or its browser has gone. The last one stops the hub."""
        if follower not in self._followers:
            return
        self._followers.discard(follower)
        self._unchecked.discard(follower)
        for pk in follower.ids:
            followers = self._by_edit[pk]
            followers.discard(follower)
            if not followers:
                del self._by_edit[pk]
                self._last.pop(pk, None)
        if not self._followers and self._task is not None:
            self._task.cancel()  # it closes its thread, connection and feed on the way out
            self._task = None  # a stream that comes meanwhile starts a hub run of its own

    async def _run(self) -> None:
        feed = self._open_feed()
        thread = HubThread()
        try:
            while True:
                try:
                    await self._look(thread)
                    await feed.changed(LOOK_AT_LEAST_EVERY)
                except Exception:
                    # The streams wait; the hub tries again in a second, on a fresh connection.
                    logger.exception("Reading the followed edits failed")
                    await thread.run(connections.close_all)
                    await asyncio.sleep(LOOK_AT_LEAST_EVERY)
        finally:
            feed.close()
            await thread.close()

    async def _look(self, thread: HubThread) -> None:
        unchecked, self._unchecked = self._unchecked, set()
        ids = set(self._by_edit)
        states = await thread.run(self._read, ids)
        changed = {pk for pk in ids if states.get(pk) != self._last.get(pk)}
        self._last.update((pk, states.get(pk)) for pk in ids if pk in self._by_edit)
        now = asyncio.get_running_loop().time()
        # Streams that came during the read are told after the next one: theirs may be missing.
        for follower in self._to_tell(unchecked, changed) - self._unchecked:
            if follower in self._followers:
                follower.tell(states, now)
        if now - self._keep_alives_looked_at >= LOOK_AT_LEAST_EVERY:
            self._keep_alives_looked_at = now
            for follower in self._followers:
                if now - follower.told_at >= KEEP_ALIVE_EVERY:
                    follower.keep_alive(now)

    def _to_tell(self, unchecked: set[Follower], changed: Iterable[UUID]) -> set[Follower]:
        """The streams one of whose edits changed, and those never compared yet."""
        woken = set(unchecked)
        for pk in changed:
            woken |= self._by_edit.get(pk, set())
        return woken


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def hub_for_this_loop() -> Hub:
    """The hub of the running event loop (uvicorn runs one per process), made on first use."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]
