"""The hub (live/hub.py): one read per change however many streams follow, only the streams
whose edits changed are woken, and streams that go are let go of, the last one stopping it."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import live.hub
from editor.models import Edit
from live.hub import Hub, read_card_states
from tests.support.hub_reads import hub_reads_in_the_test_thread  # noqa: F401  (autouse)

RUNNING = ("running", "generating", 10, 0, "", None)
DEADLINE = 30  # seconds: a scenario that hangs fails instead


async def until(condition):
    while not condition():
        await asyncio.sleep(0.001)


class FeedTheTestWorks:
    """A change feed that tells of a change when the test says so, and never by itself."""

    def __init__(self):
        self._told = asyncio.Event()
        self.waits = 0  # how many times the hub has finished a look and waited
        self.waiting = asyncio.Event()
        self.closed = False

    async def changed(self, timeout):
        self.waits += 1
        self.waiting.set()
        await self._told.wait()
        self._told.clear()
        self.waiting.clear()

    async def tell(self):
        """A change: the hub looks, and then waits again."""
        waits = self.waits
        self._told.set()
        await until(lambda: self.waits > waits)

    def close(self):
        self.closed = True


NOTHING = "nothing"


async def news(follower):
    """What a stream hears now: the changes it has been told of, None (a keep-alive), or
    NOTHING when the hub has told it nothing."""
    try:
        return await asyncio.wait_for(follower.news(), 0.001)
    except TimeoutError:
        return NOTHING


def run(scenario):
    async def within_deadline():
        return await asyncio.wait_for(scenario(), DEADLINE)

    return async_to_sync(within_deadline)()


def edit_reads(queries) -> int:
    return sum(
        1
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and '"editor_edit"' in query["sql"]
    )


def test_one_read_per_change_however_many_streams_follow_and_only_theirs_are_woken(owner):
    a, b, c = (
        Edit.objects.create(owner=owner, instruction=f"edit {n}", model="gpt-4o-image")
        for n in range(3)
    )
    states = read_card_states(Edit.objects.all())
    follows = [[a.pk]] * 100 + [[b.pk]] * 100 + [[a.pk, b.pk, c.pk]] * 100

    async def scenario():
        feed = FeedTheTestWorks()
        hub = Hub(open_feed=lambda: feed)
        followers = [hub.follow({pk: states[pk] for pk in ids}) for ids in follows]
        await feed.waiting.wait()  # the first look is done
        await sync_to_async(Edit.objects.filter(pk=a.pk).update)(progress=40)
        await feed.tell()
        heard = [await news(follower) for follower in followers]
        for follower in followers:
            hub.unfollow(follower)
        return feed.waits, heard

    with CaptureQueriesContext(connection) as queries:
        looks, heard = run(scenario)
    assert looks == 2  # the first look, and the one after the change
    assert edit_reads(queries) == looks  # one query each, for 300 streams
    assert heard[:100] == [[a.pk]] * 100
    assert heard[100:200] == [NOTHING] * 100  # b's streams were not woken
    assert heard[200:] == [[a.pk]] * 100


def test_the_hub_follows_what_is_running_only():
    async def scenario():
        hub = Hub(open_feed=FeedTheTestWorks, read=lambda ids: {})
        follower = hub.follow({"x": ("succeeded", "done", 100, 0, "", None)})
        return hub.following, hub.running, follower.follows_running()

    assert run(scenario) == (0, False, False)


def test_a_stream_with_nothing_to_say_for_a_while_is_told_to_say_it_is_there(monkeypatch):
    monkeypatch.setattr(live.hub, "KEEP_ALIVE_EVERY", 0.0)  # at every look, here
    monkeypatch.setattr(live.hub, "LOOK_AT_LEAST_EVERY", 0.0)
    table = {"x": RUNNING}

    async def scenario():
        feed = FeedTheTestWorks()
        hub = Hub(open_feed=lambda: feed, read=lambda ids: {pk: table[pk] for pk in ids})
        follower = hub.follow({"x": RUNNING})
        await until(lambda: feed.waiting.is_set())
        first = await news(follower)
        await feed.tell()
        second = await news(follower)
        hub.unfollow(follower)
        return first, second

    assert run(scenario) == (None, None)


def test_streams_that_go_are_let_go_of_and_the_last_one_stops_the_hub():
    table = dict.fromkeys(range(10), RUNNING)
    feeds = []

    def open_feed():
        feeds.append(FeedTheTestWorks())
        return feeds[-1]

    async def scenario():
        hub = Hub(open_feed=open_feed, read=lambda ids: {pk: table[pk] for pk in ids})
        followers = [hub.follow({n % 10: RUNNING}) for n in range(1000)]
        await until(lambda: feeds and feeds[0].waiting.is_set())  # the first look is done
        assert (hub.following, hub.followed_edits, hub.running) == (1000, 10, True)
        for follower in followers[:999]:
            hub.unfollow(follower)
        assert (hub.following, hub.followed_edits, hub.running) == (1, 1, True)
        hub.unfollow(followers[999])
        assert (hub.following, hub.followed_edits, hub.running) == (0, 0, False)
        await until(lambda: feeds[0].closed)  # the stopped hub closes its feed and thread
        # Another stream starts it again, with a feed of its own.
        follower = hub.follow({3: RUNNING})
        await until(lambda: len(feeds) == 2 and feeds[1].waiting.is_set())
        assert (hub.following, hub.running, len(feeds)) == (1, True, 2)
        hub.unfollow(follower)

    run(scenario)


class GatedThread:
    """Reads only when the test opens the gate, so that a stream can come during a read."""

    reading: asyncio.Event
    gate: asyncio.Event

    async def run(self, call, *args):
        GatedThread.reading.set()
        await GatedThread.gate.wait()
        return call(*args)

    async def close(self):
        pass


def test_a_stream_that_comes_during_a_read_is_compared_at_the_next(monkeypatch):
    monkeypatch.setattr(live.hub, "HubThread", GatedThread)
    table = {"x": RUNNING, "y": RUNNING}
    moved = ("running", "generating", 50, 0, "", None)

    async def scenario():
        GatedThread.reading, GatedThread.gate = asyncio.Event(), asyncio.Event()
        feed = FeedTheTestWorks()
        hub = Hub(open_feed=lambda: feed, read=lambda ids: {pk: table[pk] for pk in ids})
        first = hub.follow({"x": RUNNING})
        await GatedThread.reading.wait()  # the hub's first read has begun: x alone
        second = hub.follow({"x": RUNNING, "y": RUNNING})
        table["x"] = moved
        GatedThread.gate.set()
        await feed.waiting.wait()
        # That read was of x alone: the second stream's y is not gone, it was not read.
        assert await news(first) == ["x"]
        assert await news(second) == NOTHING
        await feed.tell()
        assert await news(second) == ["x"]
        assert second.seen == {"x": moved, "y": RUNNING}
        table["y"] = moved
        await feed.tell()
        assert await news(first) == NOTHING
        assert await news(second) == ["y"]
        hub.unfollow(first)
        hub.unfollow(second)

    run(scenario)


def test_a_stream_whose_browser_goes_is_let_go_of(owner_client, owner):
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    response = owner_client.get(reverse("edit_events"), {"ids": str(edit.pk)})

    async def scenario():
        first_message = asyncio.Event()

        async def browser():
            async for _chunk in response.streaming_content:
                first_message.set()

        reading = asyncio.create_task(browser())
        await first_message.wait()
        hub = live.hub.hub_for_this_loop()
        following_while_open = hub.following
        reading.cancel()  # what the server does when the connection drops
        with pytest.raises(asyncio.CancelledError):
            await reading
        return following_while_open, hub.following, hub.running

    assert run(scenario) == (1, 0, False)
