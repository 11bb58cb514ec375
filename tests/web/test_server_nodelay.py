"""Answers leave at once: the web server's connections have Nagle's algorithm off, whether
uvicorn's own processes share a listening socket it made itself (GAITU_WEB_PROCESSES above 1)
or it listens alone.

With Nagle on, an answer's body waits for the client to acknowledge its headers, which
clients delay by up to 40 ms (webapp/server.py, send_at_once). Read off the server's side of a
real connection, served by uvicorn with Gaitu's protocol.
"""

import asyncio
import socket

import pytest
from uvicorn.config import Config
from uvicorn.server import Server

from webapp.server import GuardedHttpProtocol


class Recording(GuardedHttpProtocol):
    """Gaitu's protocol, noting the TCP_NODELAY of each connection it was handed."""

    nodelay: list[int] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        Recording.nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


async def hello(scope, receive, send) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
    )
    await send({"type": "http.response.body", "body": b"hello"})


async def one_request(own_socket: bool) -> bytes:
    config = Config(hello, host="127.0.0.1", port=0, http=Recording, lifespan="off")
    server = Server(config)
    if own_socket:  # as with --workers: uvicorn's parent binds the socket its processes share
        sockets = [config.bind_socket()]
        port = sockets[0].getsockname()[1]
        serving = asyncio.create_task(server.serve(sockets=sockets))
    else:
        serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    if not own_socket:
        port = server.servers[0].sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    server.should_exit = True
    await serving
    return answer


@pytest.mark.parametrize("own_socket", [True, False], ids=["several processes", "one process"])
def test_connections_send_without_waiting_for_acknowledgements(own_socket):
    Recording.nodelay = []
    answer = asyncio.run(one_request(own_socket))
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"hello")
    assert Recording.nodelay == [1]
