"""Several web processes (GAITU_WEB_PROCESSES=2): uvicorn's own, under `manage.py serve`'s
supervisor. Both answer, live streams on either hear of an edit that a worker in another
process runs, a web process that dies is started again by uvicorn, and a web server that dies
is started again by the supervisor with all of its processes.

Which process answers a connection is read off /proc: the process that holds its socket.
"""

import asyncio
import os
import signal
from pathlib import Path

import httpx
import psycopg

from tests.support.factories import image_bytes
from tests.support.live import SCALE_PROFILE, Gaitu, children, stop, wait_until
from tests.support.streams import Stream, close_all, open_stream

PROCESSES = 2
PHOTO = ("p.jpg", image_bytes((96, 64)), "image/jpeg")


def web_processes(server: int) -> set[int]:
    """uvicorn's processes that serve requests: the web server's children that
    multiprocessing started (not its resource tracker)."""
    found = set()
    for pid in children(server).values():
        try:
            words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"--multiprocessing-fork" in words:
            found.add(pid)
    return found


def connection_holders(port: int, pids: set[int]) -> dict[int, int]:
    """The server's open connections on `port`, by the client's port: which process holds it."""
    established = {}  # socket inode: the client's port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if int(local.rsplit(":", 1)[1], 16) == port and state == "01":  # ESTABLISHED
                established[inode] = int(remote.rsplit(":", 1)[1], 16)
    holders = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except FileNotFoundError:
                continue  # closed while listed
            inode = target.removeprefix("socket:[").removesuffix("]")
            if inode in established:
                holders[established[inode]] = pid
    return holders


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def serving_processes(server: int, without: int | None = None) -> set[int] | None:
    """The web server's two processes, once it has two (and `without` is not one of them)."""
    found = web_processes(server)
    return found if len(found) == PROCESSES and without not in found else None


def client_port(stream: Stream) -> int:
    return stream.writer.get_extra_info("sockname")[1]


def listening_hubs(gaitu: Gaitu) -> int:
    """How many connections listen for changes to edits (live/feeds.py) in this deployment."""
    with psycopg.connect(gaitu.env["DATABASE_URL"]) as database:
        return database.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            ["gaitu live updates"],
        ).fetchone()[0]


def test_two_web_processes_answer_and_hear_of_a_workers_edit(tmp_path):
    gaitu = Gaitu(tmp_path, GAITU_WEB_PROCESSES=str(PROCESSES), GAITU_DEMO_LATENCY="1.5")
    web = gaitu.start("serve", "--no-worker")
    worker = None
    try:
        gaitu.wait_until_up(web)
        server = children(web.pid)["web"]
        serving = wait_until(lambda: serving_processes(server), what="uvicorn's two processes")
        api = gaitu.api("watcher")
        answer = api.post("/api/v1/edits", data={"instruction": "blur"}, files={"image": PHOTO})
        assert answer.status_code == 202, answer.text
        edit = answer.json()["id"]  # queued: no worker runs yet
        session_id = gaitu.session("watcher").cookies["sessionid"]

        async def streams_on_both() -> tuple[list[Stream], dict[int, int]]:
            """Streams opened, ten at a time, until each process holds (answered) some."""
            streams: list[Stream] = []
            while len(streams) < 200:
                streams += await asyncio.gather(
                    *(open_stream(gaitu, session_id, [edit]) for _ in range(10))
                )
                holders = connection_holders(gaitu.port, serving)
                held_by = {holders.get(client_port(stream)) for stream in streams}
                if held_by == serving:
                    return streams, holders
            raise AssertionError(f"{len(streams)} streams, all held by {held_by}")

        async def scenario():
            streams, holders = await streams_on_both()
            listeners = listening_hubs(gaitu) if SCALE_PROFILE else None
            nonlocal worker
            worker = gaitu.start("run_worker")  # another process runs the edit

            async def events(stream: Stream) -> list[tuple[str, str]]:
                heard = [await stream.next_event()]
                while heard[-1][0] != "done":
                    heard.append(await stream.next_event())
                return heard

            heard = await asyncio.wait_for(
                asyncio.gather(*(events(stream) for stream in streams)), 120
            )
            await close_all(streams)
            by_process: dict[int, list] = {pid: [] for pid in serving}
            for stream, events in zip(streams, heard, strict=True):
                by_process[holders[client_port(stream)]].append(events)
            return by_process, listeners

        by_process, listeners = asyncio.run(scenario())
        for pid, heard in by_process.items():
            assert heard, pid
            for events in heard:
                assert events[-1] == ("done", ""), (pid, events)
                assert set(events[:-1]) == {("edit", edit)}, (pid, events)
        assert api.get(f"/api/v1/edits/{edit}").json()["status"] == "succeeded"
        if SCALE_PROFILE:
            assert listeners == PROCESSES  # each process's hub listens (LISTEN/NOTIFY)

        # A web process that dies is started again by uvicorn; the other goes on serving.
        killed = min(serving)
        os.kill(killed, signal.SIGKILL)
        again = wait_until(
            lambda: serving_processes(server, without=killed),
            what="uvicorn starts a dead web process again",
        )
        assert again > serving - {killed}
        assert children(web.pid)["web"] == server  # the supervisor had nothing to do
        for _ in range(20):
            assert httpx.get(f"{gaitu.url}/login/", timeout=30).status_code == 200

        # The web server itself dies: the supervisor ends what was left of it and starts it
        # again, with its two processes.
        os.kill(server, signal.SIGKILL)
        restarted = wait_until(
            lambda: (pid := children(web.pid).get("web")) != server and pid,
            what="the supervisor starts the web server again",
        )
        wait_until(
            lambda: serving_processes(restarted), what="the restarted web server's processes"
        )
        wait_until(
            lambda: not any(running(pid) for pid in again),
            what="the dead web server's processes end with it",
        )
        gaitu.wait_until_up(web)  # once its processes have started listening
    finally:
        if worker is not None:
            stop(worker)
        stop(web, signal.SIGTERM)
        gaitu.kill_leftovers()
