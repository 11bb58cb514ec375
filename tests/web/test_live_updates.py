"""The live updates of running edits (live/): what the stream says, and when."""

import asyncio
import sqlite3

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection
from django.urls import reverse

import live.hub
from editor.models import Edit, Share
from live.feeds import PollingFeed, PostgresNotifyFeed, feed_for_the_database
from tests.support.hub_reads import hub_reads_in_the_test_thread  # noqa: F401  (autouse)


@pytest.fixture(autouse=True)
def looked_for_changes(monkeypatch):
    """These tests' writes stay in the test's transaction, of which no database tells (on
    PostgreSQL, a notification is sent at commit): the hub looks for them every 50 ms."""
    monkeypatch.setattr(live.hub, "feed_for_the_database", PollingFeed)


def read_events(response, between=None):
    """The events of a stream, as (event, data); `between(n)` runs after the n-th message."""

    async def read():
        events, n = [], 0
        async for chunk in response.streaming_content:
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            fields = dict(line.split(": ", 1) for line in text.strip().splitlines() if ": " in line)
            if "event" in fields:
                events.append((fields["event"], fields.get("data", "")))
            elif text.startswith(":"):
                events.append(("comment", text.strip()))
            n += 1
            if between:
                await between(n)
        return events

    return async_to_sync(read)()


def stream(client, *edits):
    ids = ",".join(str(edit.pk) for edit in edits)
    return client.get(reverse("edit_events"), {"ids": ids})


def test_a_change_to_a_running_edit_is_named_and_the_stream_ends_when_it_is_done(
    owner_client, owner
):
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    other = Edit.objects.create(owner=owner, instruction="sharpen", model="gpt-4o-image")
    response = stream(owner_client, edit, other)
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"

    @sync_to_async
    def move_on(n):  # after the n-th message, the next change
        if n == 1:
            assert edit.start()
        elif n == 2:
            edit.report_progress(Edit.Stage.GENERATING, 40)
        elif n == 3:
            Edit.objects.filter(pk=other.pk).update(status=Edit.Status.CANCELED)
        elif n == 4:
            assert edit.succeed()

    events = read_events(response, between=move_on)
    assert events == [
        ("edit", str(edit.pk)),
        ("edit", str(edit.pk)),
        ("edit", str(other.pk)),
        ("edit", str(edit.pk)),
        ("done", ""),
    ]


def test_a_quiet_stream_says_it_is_still_there(owner_client, owner, monkeypatch):
    """A comment line after a while without news (15 s; at once here), for proxies."""
    monkeypatch.setattr(live.hub, "KEEP_ALIVE_EVERY", 0.0)
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")

    @sync_to_async
    def finish_after_the_first_comment(n):
        if n == 2:
            assert edit.start() and edit.succeed()

    events = read_events(stream(owner_client, edit), between=finish_after_the_first_comment)
    assert events[0] == ("comment", ": still running")
    assert set(events[:-2]) == {("comment", ": still running")}
    assert events[-2:] == [("edit", str(edit.pk)), ("done", "")]


def test_nothing_running_ends_at_once(owner_client, owner):
    edit = Edit.objects.create(
        owner=owner, instruction="blur", model="gpt-4o-image", status=Edit.Status.SUCCEEDED
    )
    assert read_events(stream(owner_client, edit)) == [("done", "")]


def test_a_deleted_edit_is_not_named_and_no_longer_followed(owner_client, owner):
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    response = stream(owner_client, edit)

    @sync_to_async
    def delete(n):
        if n == 1:
            Edit.objects.filter(pk=edit.pk).delete()

    assert read_events(response, between=delete) == [("done", "")]


def test_another_persons_edits_are_not_followed(owner_client, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="x" * 12)
    theirs = Edit.objects.create(owner=stranger, instruction="blur", model="gpt-4o-image")
    assert read_events(stream(owner_client, theirs)) == [("done", "")]


def test_a_share_changes_nothing_the_stream_names(owner_client, owner):
    """The stream follows what a running card shows; sharing needs a finished edit anyway."""
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    assert edit.start() and edit.succeed()
    Share.objects.create(edit=edit)
    assert read_events(stream(owner_client, edit)) == [("done", "")]


@pytest.mark.parametrize("ids", ["not-an-id", "1,2"])
def test_ids_that_are_not_edit_ids_are_refused(owner_client, ids):
    response = owner_client.get(reverse("edit_events"), {"ids": ids})
    assert response.status_code == 400


def test_only_for_people_logged_in(client):
    response = client.get(reverse("edit_events"), {"ids": ""})
    assert response.status_code == 302


def test_a_commit_to_the_sqlite_database_is_told_and_nothing_else_is(tmp_path):
    """How the hub hears of a change on a real database file: SQLite's commit count."""
    from live.feeds import SqliteCommitFeed

    database = tmp_path / "gaitu.sqlite3"
    writer = sqlite3.connect(database)
    writer.execute("CREATE TABLE edit (stage TEXT)")
    writer.commit()

    async def told_within(feed, seconds):
        waiting = asyncio.ensure_future(feed.changed(timeout=3600))
        done, _ = await asyncio.wait({waiting}, timeout=seconds)
        waiting.cancel()
        return bool(done)

    async def scenario():
        feed = SqliteCommitFeed(database)
        assert not await told_within(feed, 0.2)  # nothing committed, nothing told
        writer.execute("INSERT INTO edit VALUES ('generating')")
        writer.commit()
        assert await told_within(feed, 30)
        assert not await told_within(feed, 0.2)  # that change was told once
        writer.execute("INSERT INTO edit VALUES ('done')")
        writer.commit()  # while nobody waits: the next wait hears of it at once
        assert await told_within(feed, 30)
        feed.close()

    asyncio.run(scenario())
    writer.close()


def test_the_feed_is_the_databases_own_where_it_can_tell(db):
    """PostgreSQL tells of changes itself (tests/web/test_live_postgres.py); the embedded
    profile's test database lives in memory, with no file whose commits could be counted."""
    feed = feed_for_the_database()
    expected = {"postgresql": PostgresNotifyFeed, "sqlite": PollingFeed}[connection.vendor]
    assert type(feed) is expected
    feed.close()
