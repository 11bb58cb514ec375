"""How large a request may be, and how its form's parts are read.

A body over its limit is answered 413 before it is read. Under ASGI that has to happen before
Django: its ASGIHandler reads the whole body into a temporary file before any middleware or
view runs, so webapp/asgi.py (RefuseLargeBodies) looks first: it hands Django an empty body
(or, for one without a Content-Length, what came until the count passed the limit) and marks
the request in its scope (BODY_REFUSED). RequestLimitMiddleware turns the mark into the
answer, in the reader's language and where the caller reads it: the API's JSON error, the
studio's form, or a page. Under WSGI, where a body is read only when a view asks for it, the
middleware judges the Content-Length itself.

The limit is an edit's (editor.limits.edit_body_max_bytes: GAITU_MAX_INPUTS pictures of
GAITU_UPLOAD_MAX_MB each, and the form's fields) on every path but the gallery imports', which
take one ZIP of up to IMPORT_MAX_MB.

A part's headers may be long and in any bytes too: Django reads at most 1 KB of them (a
constant, not a setting), which a long file name passes, and drops a header line that is not
UTF-8, and with it the file. allow_any_upload_name() lifts both, so that any file name
arrives; the form cuts it to a safe length (editor/forms.py).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, multipartparser
from django.shortcuts import render
from django.urls import Resolver404, resolve

from api.errors import error_response
from editor.limits import MB, content_length_over, edit_body_max_bytes, upload_too_large_message
from exports import importing
from studio.views.studio import upload_refused

# A part's headers: its Content-Disposition with the file name, and its Content-Type. 32 KB
# take a file name of thousands of characters, even percent-encoded in filename*.
PART_HEADERS_MAX_BYTES = 32 * 1024
# What RefuseLargeBodies leaves in the scope of a request whose body it did not read.
BODY_REFUSED = "gaitu.body_refused"

# (The stubs of django.http.multipartparser leave its module globals out.)
_django_parse_part = multipartparser.parse_boundary_stream  # type: ignore[attr-defined]


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    refusal: Callable[[], str]  # what a person is told, in their language


# The views that take a gallery ZIP (exports/), by their URL names.
IMPORT_VIEWS = frozenset({"import_gallery", "api_imports"})


def body_limit(path: str) -> BodyLimit:
    """The limit of a request body sent to this path (within the site: its path_info)."""
    if url_name(path) in IMPORT_VIEWS:
        # Read at each request: the import's limit is its module's (and its tests' to change).
        return BodyLimit(importing.IMPORT_MAX_MB * MB + MB, importing.too_large_message)
    return BodyLimit(edit_body_max_bytes(), upload_too_large_message)


def url_name(path: str) -> str | None:
    try:
        return resolve(path).url_name
    except Resolver404:
        return None


def allow_any_upload_name() -> None:
    """Let Django's form parser read part headers of any length (up to PART_HEADERS_MAX_BYTES)
    and any bytes.

    Both are globals of django.http.multipartparser, looked up as each form is read:
    MAX_TOTAL_HEADER_SIZE (1 KB; past it the whole form is refused as unreadable), and
    parse_boundary_stream, which skips a header line that is not UTF-8.
    """
    multipartparser.MAX_TOTAL_HEADER_SIZE = PART_HEADERS_MAX_BYTES  # type: ignore[attr-defined]
    multipartparser.parse_boundary_stream = _parse_part  # type: ignore[attr-defined]


def _parse_part(stream: multipartparser.LazyStream, max_header_size: int) -> Any:
    """Django's parse_boundary_stream, once the part's header bytes that are not UTF-8 read as
    U+FFFD, as Django itself reads a file name in another charset (errors="replace")."""
    chunk = stream.read(max_header_size)
    header_end = chunk.find(b"\r\n\r\n")
    try:
        chunk[: max(header_end, 0)].decode()
    except UnicodeDecodeError:
        chunk = chunk[:header_end].decode(errors="replace").encode() + chunk[header_end:]
    stream.unget(chunk)
    return _django_parse_part(stream, max_header_size)


def refused_limit(request: HttpRequest) -> BodyLimit | None:
    """The limit this request's body is over, or None when it is within it."""
    scope = getattr(request, "scope", None)  # an ASGI request's: RefuseLargeBodies judged it
    if scope is not None:
        return body_limit(request.path_info) if scope.get(BODY_REFUSED) else None
    limit = body_limit(request.path_info)
    return limit if content_length_over(request, limit.max_bytes) else None


def refusal_response(request: HttpRequest, limit: BodyLimit) -> HttpResponse:
    """413, said where the caller reads it: the API's JSON, the studio's form, or a page."""
    message = limit.refusal()
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = error_response(413, "request_too_large", message)
    elif (
        url_name(request.path_info) == "studio"
        and request.htmx  # type: ignore[attr-defined]  # HtmxMiddleware's, which runs first
        and request.user.is_authenticated
    ):
        # The studio's form, where htmx puts the answer; a page would not be shown.
        response = upload_refused(request, message)  # type: ignore[arg-type]
    else:
        # A page of its own, with nothing of the person's: the view's checks (login, two-factor
        # sign-in) have not run yet.
        response = render(request, "request_too_large.html", {"message": message}, status=413)
    if getattr(request, "scope", None) is not None:
        # The rest of the body is still on its way: this connection can carry no next request.
        # (Only under ASGI: a WSGI server keeps hop-by-hop headers to itself.)
        response["Connection"] = "close"
    return response


class RequestLimitMiddleware:
    """Answers a request whose body is over its limit with 413, before anything reads it.

    It comes after the session, authentication, language and htmx middleware, whose work its
    answer uses: none of them reads a body, and CSRF reads it only in process_view, after
    every middleware has been called.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        allow_any_upload_name()

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        limit = refused_limit(request)
        return refusal_response(request, limit) if limit else self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        limit = refused_limit(request)  # no database and no I/O: fine in the event loop
        if limit:
            # The studio's form asks the database: in a thread, as its view would be.
            return await sync_to_async(refusal_response)(request, limit)
        response: HttpResponse = await self.get_response(request)
        return response
