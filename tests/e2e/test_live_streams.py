"""Open live-update streams cost the web process no thread and no database connection of
their own (issue #13): a real server, 200 streams from one browser-like session, the web
process's threads and open files read off /proc against the same counts with none open."""

import asyncio

from tests.support.factories import image_bytes
from tests.support.live import split_gaitu
from tests.support.streams import (
    allow_open_files,
    close_all,
    open_files,
    open_streams,
    settled,
    sockets_and_files,
    threads,
    web_process,
)

STREAMS = 200


def test_open_streams_hold_no_thread_and_no_connection_and_all_hear_of_a_change(tmp_path):
    allow_open_files(4 * STREAMS + 1024)
    with split_gaitu(
        tmp_path, with_worker=False, GAITU_MAX_CONNECTIONS_PER_ADDRESS="5000"
    ) as gaitu:
        api = gaitu.api("watcher")
        answer = api.post(
            "/api/v1/edits",
            data={"instruction": "blur"},
            files={"image": ("p.jpg", image_bytes(), "image/jpeg")},
        )
        assert answer.status_code == 202, answer.text
        edit = answer.json()["id"]  # no worker: it stays queued until canceled
        session_id = gaitu.session("watcher").cookies["sessionid"]
        web = web_process(gaitu)

        async def scenario():
            # The first streams import and set up what streams need.
            await close_all(await open_streams(gaitu, session_id, [edit], 3))
            none_open = settled(lambda: threads(web)), settled(lambda: open_files(web))
            sockets_before, files_before = sockets_and_files(web)

            streams = await open_streams(gaitu, session_id, [edit], STREAMS, at_once=10)
            with_open = settled(lambda: threads(web)), settled(lambda: open_files(web))
            sockets_open, files_open = sockets_and_files(web)

            await asyncio.to_thread(api.post, f"/api/v1/edits/{edit}/cancel")
            heard = await asyncio.gather(*(stream.next_event() for stream in streams))
            ended = await asyncio.gather(*(stream.next_event() for stream in streams))
            await close_all(streams)
            closed = settled(lambda: threads(web)), settled(lambda: open_files(web))
            return (
                none_open, with_open, closed,
                (sockets_before, files_before), (sockets_open, files_open),
                heard, ended,
            )  # fmt: skip

        none_open, with_open, closed, before, when_open, heard, ended = asyncio.run(scenario())

    assert heard == [("edit", edit)] * STREAMS
    assert ended == [("done", "")] * STREAMS
    # One thread more while any are open: the hub's, reading for them all.
    assert with_open[0] <= none_open[0] + 2, (none_open, with_open)
    # A socket each, and a few files more: the hub's one connection and its feed.
    assert when_open[0] <= before[0] + STREAMS + 5, (before, when_open)
    assert when_open[1] <= before[1] + 20, (before, when_open)
    # Once they have closed, the hub has stopped: its thread, connection and feed are gone.
    assert closed[0] <= none_open[0], (none_open, closed)
    assert closed[1] <= none_open[1] + 10, (none_open, closed)
