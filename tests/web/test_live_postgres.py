"""The live updates' PostgreSQL feed (live/feeds.py, PostgresNotifyFeed) and its trigger
(editor/migrations/0008_edit_change_notifications.py), on a real PostgreSQL server.

In the scale-out profile that is the profile's server; in the embedded one, a server these
tests start themselves (tests/support/servers.py), so that they run in both. Each test has a
database of its own holding the edits' tables as the hub reads them, with the migration's
trigger on them; writes come from another connection, as they would from a worker or another
machine.
"""

import asyncio
import importlib
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.apps import apps
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SqliteWrapper
from psycopg import sql

import live.hub
from live.feeds import EDITS_CHANNEL, PostgresNotifyFeed, listen_params
from live.hub import Hub
from tests.support.live import SCALE_PROFILE, wait_until
from tests.support.servers import create_database, running_servers

notifications = importlib.import_module("editor.migrations.0008_edit_change_notifications")

DEADLINE = 60  # seconds: a scenario that hangs fails instead
QUIET = 0.3  # seconds in which nothing may be told, where nothing was written
FEED_NAME = "gaitu live updates"  # the feed's application_name (listen_params)
TABLES = [
    "CREATE TABLE editor_edit (id uuid PRIMARY KEY, status varchar(10), progress smallint)",
    "CREATE TABLE editor_share (id bigserial PRIMARY KEY, edit_id uuid, token text)",
    "CREATE TABLE elsewhere (n integer)",
]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a database on a running PostgreSQL server."""
    if SCALE_PROFILE:
        yield os.environ["DATABASE_URL"]
        return
    folder = tempfile.mkdtemp(prefix="gaitu-postgres-")  # where the server's own user gets in
    try:
        with running_servers(Path(folder), "postgres") as servers:
            url = servers.postgres_url("gaitu")
            yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def django_connection(url: str) -> PostgresWrapper:
    """Django's own connection to that database, as the settings would make it."""
    settings_dict = connections.configure_settings({"default": dj_database_url.parse(url)})
    return PostgresWrapper(settings_dict["default"], alias="live-postgres")


class EditsDatabase:
    """A database of a test's own, with the edits' tables, the trigger, and a writer."""

    def __init__(self, url: str, django_db_blocker):
        self.url = url
        self.name = url.rsplit("/", 1)[1]
        self.django = django_connection(url)
        self.writer = psycopg.connect(url, autocommit=True)
        for statement in TABLES:
            self.writer.execute(statement)
        with django_db_blocker.unblock(), self.django.schema_editor(atomic=False) as editor:
            notifications.add_notifications(apps, editor)
        self._blocker = django_db_blocker

    def write(self, statement: str, *params: object) -> None:
        """A write from a connection that is not the feed's, as from a worker."""
        self.writer.execute(statement, params)  # type: ignore[arg-type]

    def add_edit(self, status: str = "running") -> uuid.UUID:
        pk = uuid.uuid4()
        self.write("INSERT INTO editor_edit VALUES (%s, %s, 0)", pk, status)
        return pk

    def feed(self) -> PostgresNotifyFeed:
        return PostgresNotifyFeed(listen_params(self.django))

    def admin(self, statement: sql.Composable | str, *params: object) -> list[tuple]:
        """A statement on the server's own database, about this one (named {name})."""
        if isinstance(statement, str):
            statement = sql.SQL(statement)  # type: ignore[arg-type]
        query = statement.format(name=sql.Identifier(self.name))
        with psycopg.connect(f"{self.url.rsplit('/', 1)[0]}/postgres", autocommit=True) as admin:
            cursor = admin.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    FEED_BACKENDS = "FROM pg_stat_activity WHERE datname = %s AND application_name = %s"

    def feed_connections(self) -> int:
        return self.admin(f"SELECT count(*) {self.FEED_BACKENDS}", self.name, FEED_NAME)[0][0]

    def end_feed_connections(self) -> list[tuple]:
        return self.admin(
            f"SELECT pg_terminate_backend(pid) {self.FEED_BACKENDS}", self.name, FEED_NAME
        )

    def close(self) -> None:
        self.writer.close()
        with self._blocker.unblock():
            self.django.close()
        self.admin("DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def edits_database(postgres_server, django_db_blocker) -> Iterator[EditsDatabase]:
    database = EditsDatabase(create_database(postgres_server), django_db_blocker)
    yield database
    database.close()


class CountedReads:
    """The hub's read, of these tables, counted: one query each, on a connection opened in
    the hub's own thread."""

    def __init__(self, url: str):
        self.url = url
        self.count = 0
        self._connection: psycopg.Connection | None = None

    def __call__(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, tuple]:
        if self._connection is None:
            self._connection = psycopg.connect(self.url, autocommit=True)
        self.count += 1
        rows = self._connection.execute(
            "SELECT id, status, progress FROM editor_edit WHERE id = ANY(%s)", [list(ids)]
        ).fetchall()
        return {pk: (status, progress) for pk, status, progress in rows}

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def run(scenario):
    async def within_deadline():
        return await asyncio.wait_for(scenario(), DEADLINE)

    return asyncio.run(within_deadline())


async def told_within(feed: PostgresNotifyFeed, seconds: float) -> bool:
    waiting = asyncio.ensure_future(feed.changed(timeout=3600))
    done, _ = await asyncio.wait({waiting}, timeout=seconds)
    waiting.cancel()
    return bool(done)


async def until(condition, every: float = 0.005) -> None:
    while not condition():
        await asyncio.sleep(every)


NOTHING = "nothing"


async def news(follower):
    """What a stream has been told by now: its changed edits, or NOTHING."""
    try:
        return await asyncio.wait_for(follower.news(), 0.001)
    except TimeoutError:
        return NOTHING


def test_every_write_to_an_edit_or_its_share_is_told_and_nothing_else_is(edits_database):
    db = edits_database
    edit = db.add_edit()

    async def scenario():
        feed = db.feed()
        # Listening now: told once, as whatever was written before is not known.
        assert await told_within(feed, DEADLINE)
        assert not await told_within(feed, QUIET)
        for statement, *params in (
            ("INSERT INTO editor_edit VALUES (%s, 'queued', NULL)", uuid.uuid4()),
            ("UPDATE editor_edit SET progress = 40 WHERE id = %s", edit),
            ("INSERT INTO editor_share (edit_id, token) VALUES (%s, 'a-token')", edit),
            ("DELETE FROM editor_share",),
            ("DELETE FROM editor_edit WHERE id = %s", edit),
        ):
            db.write(statement, *params)
            assert await told_within(feed, DEADLINE), statement
            assert not await told_within(feed, QUIET), statement  # told once
        db.write("INSERT INTO elsewhere VALUES (1)")
        assert not await told_within(feed, QUIET)
        # Fifty rows in one transaction: one notification (PostgreSQL folds identical ones).
        with db.writer.transaction():
            for _ in range(50):
                db.write("INSERT INTO editor_edit VALUES (%s, 'queued', 0)", uuid.uuid4())
        assert await told_within(feed, DEADLINE)
        assert not await told_within(feed, QUIET)
        assert db.feed_connections() == 1
        feed.close()
        await until(lambda: db.feed_connections() == 0, every=0.1)  # its connection went

    run(scenario)


def test_open_streams_cost_no_reads_of_their_own_one_read_per_change(edits_database, monkeypatch):
    """However many streams are open, the hub reads once when it starts, once when its feed
    listens, and once per change: no polling (its read at least every second is put off for
    this test, so that every read here is one the feed asked for)."""
    monkeypatch.setattr(live.hub, "LOOK_AT_LEAST_EVERY", 3600.0)
    db = edits_database
    a, b, c = db.add_edit(), db.add_edit(), db.add_edit()
    running = ("running", 0)
    reads = CountedReads(db.url)

    async def scenario():
        hub = Hub(open_feed=db.feed, read=reads)
        on_a = [hub.follow({a: running}) for _ in range(100)]
        on_b = [hub.follow({b: running}) for _ in range(100)]
        on_all = [hub.follow({a: running, b: running, c: running}) for _ in range(100)]
        await until(lambda: reads.count == 2)  # its first read, and the one once it listens
        for n in range(1, 6):
            db.write("UPDATE editor_edit SET progress = %s WHERE id = %s", n * 10, a)
            heard = await asyncio.gather(*(follower.news() for follower in on_a + on_all))
            assert heard == [[a]] * 200
            assert {await news(follower) for follower in on_b} == {NOTHING}  # not woken
            await asyncio.sleep(QUIET)  # a polling hub would read meanwhile
            assert reads.count == 2 + n
        for follower in on_a + on_b + on_all:
            hub.unfollow(follower)
        await until(lambda: not hub.running)

    try:
        run(scenario)
    finally:
        reads.close()
    assert reads.count == 7
    wait_until(lambda: db.feed_connections() == 0, what="the stopped hub closes its feed")


def test_a_change_made_while_the_hub_reads_is_read_next(edits_database, monkeypatch):
    """The notification comes while the hub is reading: its next wait ends at once."""
    monkeypatch.setattr(live.hub, "LOOK_AT_LEAST_EVERY", 3600.0)
    db = edits_database
    edit = db.add_edit()
    running = ("running", 0)

    class WritesDuringTheSecondRead(CountedReads):
        def __call__(self, ids):
            states = super().__call__(ids)
            if self.count == 2:  # the read once the feed listens, with the old progress
                db.write("UPDATE editor_edit SET progress = 50 WHERE id = %s", edit)
                time.sleep(QUIET)  # the notification arrives while this read goes on
            return states

    reads = WritesDuringTheSecondRead(db.url)

    async def scenario():
        hub = Hub(open_feed=db.feed, read=reads)
        follower = hub.follow({edit: running})
        assert await follower.news() == [edit]  # with its read put off, only the feed wakes it
        assert follower.seen == {edit: ("running", 50)}
        hub.unfollow(follower)

    try:
        run(scenario)
    finally:
        reads.close()
    assert reads.count == 3


def test_a_lost_connection_is_made_again_and_meanwhile_waits_end_at_their_timeout(
    edits_database, caplog
):
    caplog.set_level(logging.WARNING, logger="live.feeds")
    db = edits_database

    def lost_messages() -> int:
        return sum("Not listening for changes to edits" in m for m in caplog.messages)

    async def scenario():
        feed = db.feed()
        assert await told_within(feed, DEADLINE)
        # The database refuses new connections, and the feed's is ended.
        db.admin("ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        try:
            assert db.end_feed_connections() == [(True,)]
            await until(lambda: lost_messages() == 1)
            for _ in range(3):  # the hub's waits still end: it reads at its own pace meanwhile
                await feed.changed(timeout=0.5)
        finally:
            db.admin("ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        # Back: told at once (whatever was written meanwhile), then of each write again.
        assert await told_within(feed, DEADLINE)
        db.write("INSERT INTO editor_edit VALUES (%s, 'queued', 0)", uuid.uuid4())
        assert await told_within(feed, DEADLINE)
        feed.close()

    run(scenario)
    assert lost_messages() == 1  # said once, not at every try
    assert "Listening for changes to edits again." in caplog.messages


def test_the_trigger_is_postgresqls_alone_and_goes_with_the_migrations_reverse(
    edits_database, django_db_blocker
):
    db = edits_database
    assert notifications.CHANNEL == EDITS_CHANNEL  # the trigger sends where the feed listens
    triggers = "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'gaitu_edits_changed'"
    function = "SELECT count(*) FROM pg_proc WHERE proname = 'gaitu_edits_changed'"
    assert {table for (table,) in db.writer.execute(triggers)} == {"editor_edit", "editor_share"}
    with django_db_blocker.unblock(), db.django.schema_editor(atomic=False) as editor:
        notifications.remove_notifications(apps, editor)
    assert db.writer.execute(triggers).fetchall() == []
    assert db.writer.execute(function).fetchone() == (0,)

    sqlite_settings = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    sqlite = SqliteWrapper(connections.configure_settings({"default": sqlite_settings})["default"])
    with django_db_blocker.unblock():
        with sqlite.schema_editor() as editor:  # nothing there for SQLite to do
            notifications.add_notifications(apps, editor)
        with sqlite.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
            assert cursor.fetchone() == (0,)
        sqlite.close()


def test_migrate_leaves_the_trigger_on_the_configured_database_if_it_is_postgresql(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgrelid::regclass::text FROM pg_trigger "
                "WHERE tgname = 'gaitu_edits_changed'"
            )
            assert {table for (table,) in cursor.fetchall()} == {"editor_edit", "editor_share"}
        else:
            # No live-update trigger; the only ones are the search index's (editor/0012).
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name NOT LIKE 'editor_edit_search_%'"
            )
            assert cursor.fetchone() == (0,)


def test_the_feed_connects_as_django_does_with_keepalives(edits_database):
    params = listen_params(edits_database.django)
    assert params["dbname"] == edits_database.name
    assert "cursor_factory" not in params and "context" not in params  # Django's sync ones
    assert params["application_name"] == FEED_NAME
    assert params["keepalives"] == 1
