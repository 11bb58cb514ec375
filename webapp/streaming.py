"""A file response that the ASGI server is given a block at a time, as it is read."""

import functools
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.http import FileResponse


class StreamedFileResponse(FileResponse):
    """Django's FileResponse, streamed under ASGI too.

    Served by uvicorn, Django's own reads the whole file into a list, in one thread, before it
    sends the first byte (StreamingHttpResponse.__aiter__ with a file's synchronous blocks): a
    picture relayed from the bucket, or an export of many gigabytes, would be held whole in
    the web process's memory. Here each block is read in a worker thread when the server asks
    for it, so a download holds one block at a time. A synchronous caller (the test client,
    WSGI) iterates it as Django's own.
    """

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self.streaming_content
        if not isinstance(content, Iterator):  # made from an async iterator: Django's way
            async for part in super().__aiter__():
                yield part
            return
        # Not thread-sensitive: a block read waits for the disk or the bucket, and need not
        # queue behind the request threads of the web process.
        next_block = sync_to_async(functools.partial(next, content, None), thread_sensitive=False)
        while (block := await next_block()) is not None:
            yield block
