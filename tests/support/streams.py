"""Many live-update streams (`/edits/live`) from one client process, and what they cost the
web process: its threads, open files and memory, read off /proc.

A stream is a plain asyncio connection speaking HTTP/1.1 by hand (uvicorn sends the events
chunked), so that a thousand of them cost the client little and nothing is pooled or retried
behind the test's back.
"""

import asyncio
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.live import Gaitu


class Stream:
    """One open stream: what it has said so far, read event by event."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self._text = ""

    async def next_message(self) -> tuple[str, str]:
        """The next message as (event, data), or ("comment", text) or ("retry", ms)."""
        while "\n\n" not in self._text:
            self._text += await self._next_chunk()
        message, self._text = self._text.split("\n\n", 1)
        fields = dict(line.split(": ", 1) for line in message.splitlines() if ": " in line)
        if message.startswith(":"):
            return "comment", message
        if "retry" in fields:
            return "retry", fields["retry"]
        return fields.get("event", "message"), fields.get("data", "")

    async def next_event(self) -> tuple[str, str]:
        """The next `event:` message, keep-alive comments passed over."""
        while (message := await self.next_message())[0] == "comment":
            pass
        return message

    async def _next_chunk(self) -> str:
        size = int((await self.reader.readline()).strip() or b"0", 16)
        if size == 0:
            raise EOFError("the stream ended")
        chunk = await self.reader.readexactly(size + 2)  # the chunk and its CRLF
        return chunk[:-2].decode()

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def open_stream(gaitu: Gaitu, session_id: str, ids: list[str]) -> Stream:
    """A logged-in browser's stream for these edits, once the server has said `retry:`."""
    address = urlsplit(gaitu.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(
        f"GET /edits/live?ids={','.join(ids)} HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        "Accept: text/event-stream\r\n"
        f"Cookie: sessionid={session_id}\r\n\r\n".encode()
    )
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    assert head.startswith("HTTP/1.1 200"), head
    assert "content-type: text/event-stream" in head.lower(), head
    assert "transfer-encoding: chunked" in head.lower(), head
    stream = Stream(reader, writer)
    assert await stream.next_message() == ("retry", "1000")
    return stream


async def close_all(streams: list[Stream]) -> None:
    await asyncio.gather(*(stream.close() for stream in streams))


async def open_streams(
    gaitu: Gaitu, session_id: str, ids: list[str], count: int, at_once: int = 50
) -> list[Stream]:
    """`count` streams, `at_once` of them opening at a time (as many tabs would)."""
    streams: list[Stream] = []
    while len(streams) < count:
        batch = min(at_once, count - len(streams))
        streams += await asyncio.gather(
            *(open_stream(gaitu, session_id, ids) for _ in range(batch))
        )
    return streams


def web_process(gaitu: Gaitu) -> int:
    """The pid of the installation's web server (uvicorn, under `manage.py serve`)."""
    for pid in gaitu.processes():
        with_args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"uvicorn" in with_args:
            return pid
    raise AssertionError("no web server is running")


def threads(pid: int) -> int:
    return _status_field(pid, "Threads")


def rss_kib(pid: int) -> int:
    return _status_field(pid, "VmRSS")


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def sockets_and_files(pid: int) -> tuple[int, int]:
    """The process's open sockets, and its other open files (the database's among them)."""
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            targets.append(fd.readlink().name)
        except FileNotFoundError:
            continue  # closed while listed
    sockets = sum(1 for target in targets if target.startswith("socket:"))
    return sockets, len(targets) - sockets


def settled(measure: Callable[[], int], every: float = 0.2, alike: int = 5) -> int:
    """`measure()` once it has stopped moving (a request's passing threads and files gone),
    or its last value after 30 s."""
    deadline = time.monotonic() + 30
    seen = [measure()]
    while time.monotonic() < deadline:
        if len(seen) >= alike and len(set(seen[-alike:])) == 1:
            break
        time.sleep(every)
        seen.append(measure())
    return seen[-1]


def _status_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return int(value.split()[0])
    raise KeyError(name)


def allow_open_files(count: int) -> None:
    """Raise this process's open-file limit (and so that of servers it starts) to `count`,
    as far as the hard limit lets it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
