"""StreamedFileResponse (webapp/streaming.py): under ASGI a download is read a block at a time,
as the server sends it, never whole into memory first."""

import asyncio
import warnings

from webapp.streaming import StreamedFileResponse


def relayed(response: StreamedFileResponse, read_by_then) -> tuple[int, bytes]:
    """The whole body as an ASGI server takes it, and how much had been read when the first
    block went out. Django warns (an error here) when it must read a file whole to serve it."""

    async def relay() -> tuple[int, bytes]:
        blocks = aiter(response)
        first = await anext(blocks)
        then = read_by_then()
        return then, first + b"".join([block async for block in blocks])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return asyncio.run(relay())


def test_a_file_is_read_a_block_at_a_time(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 1024)
    with path.open("rb") as file:
        response = StreamedFileResponse(file)
        response.block_size = 4096
        assert response["Content-Length"] == str(256 * 1024)
        then, body = relayed(response, file.tell)
    assert then == 4096
    assert body == path.read_bytes()


def test_a_synchronous_caller_reads_it_as_django_does(tmp_path):
    path = tmp_path / "small.bin"
    path.write_bytes(b"picture")
    with path.open("rb") as file:
        assert b"".join(StreamedFileResponse(file)) == b"picture"


def test_content_that_is_already_asynchronous_is_passed_on():
    async def parts():
        yield b"one "
        yield b"two"

    response = StreamedFileResponse(parts())
    assert relayed(response, lambda: 0)[1] == b"one two"
