"""The ASGI application that uvicorn serves (`manage.py serve`).

Static files are answered inside it, by ServeStatic's async middleware (webapp/settings/base.py).
Around Django, RefuseLargeBodies keeps a body over its limit from being read at all.
"""

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django_application = get_asgi_application()

from webapp.request_limits import BODY_REFUSED, body_limit  # noqa: E402  (needs Django set up)

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_END_OF_BODY: Message = {"type": "http.request", "body": b"", "more_body": False}


class RefuseLargeBodies:
    """Keeps Django from reading a request body over its limit (webapp/request_limits.py).

    Django's ASGIHandler reads the whole body before any of its code runs. A Content-Length
    over the limit is therefore judged here, from the headers: Django gets an empty body at
    once and a mark in the scope (BODY_REFUSED), from which its middleware answers 413. A body
    without a length (chunked) is counted as it comes, and ends for Django where the count
    passes the limit, marked the same way. Either way nothing more of it is read: the answer
    closes the connection.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = dict(scope)  # ours, to mark: the server may keep its own
        path, root = scope["path"], scope.get("root_path", "")
        path = path.removeprefix(root) if root else path
        length = _content_length(scope)
        if length is None:  # most requests (a GET has no body): the limit is looked up lazily
            await self.app(scope, _counted_body(scope, receive, lambda: self.limit_for(path)), send)
            return
        limit = self.limit_for(path)
        if not 0 <= length <= limit:
            scope[BODY_REFUSED] = limit
            await self.app(scope, _refused_body(), send)
        else:
            await self.app(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The Content-Length the request gives, -1 for one that is no number, None for none."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


def _refused_body() -> Receive:
    """A body that ends at once, and then waits: Django listens for the client leaving while
    it answers, and the server's next message would be more of the body."""
    ended = False

    async def receive() -> Message:
        nonlocal ended
        if ended:
            await asyncio.Future()  # cancelled by Django once its answer is sent
        ended = True
        return _END_OF_BODY

    return receive


def _counted_body(scope: Scope, receive: Receive, limit_of: Callable[[], int]) -> Receive:
    """The server's body, until more bytes than the limit have come: then it ends, marked."""
    counted = 0
    limit: int | None = None  # looked up with the first bytes
    refused: Receive | None = None

    async def counting_receive() -> Message:
        nonlocal counted, limit, refused
        if refused is not None:
            return await refused()
        message = await receive()
        if message["type"] == "http.request" and message.get("body"):
            counted += len(message["body"])
            limit = limit if limit is not None else limit_of()
            if counted > limit:
                scope[BODY_REFUSED] = limit
                refused = _refused_body()
                return await refused()
        return message

    return counting_receive


def _limit_for(path: str) -> int:
    return body_limit(path).max_bytes


application = RefuseLargeBodies(django_application, _limit_for)
