"""Every answer that is not a success: `{"error": {"code", "message", "field"?, "retry_after"?}}`,
in JSON whatever went wrong, never one of Django's HTML pages."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousMultipartForm,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.log import log_response
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError


class ApiError(Exception):
    """Raised by a view to answer with this error."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra  # field, retry_after


def error_response(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    body = {"error": {"code": code, "message": str(message), **extra}}
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="gaitu"'
    if "retry_after" in extra:
        response["Retry-After"] = str(extra["retry_after"])
    return response


def not_found(message: str = "") -> JsonResponse:
    return error_response(404, "not_found", message or _("There is no such address."))


def method_not_allowed(request: HttpRequest, allowed: str) -> JsonResponse:
    message = _("This address does not take %(method)s, only %(allowed)s.") % {
        "method": request.method,
        "allowed": allowed,
    }
    response = error_response(405, "method_not_allowed", message)
    response["Allow"] = allowed
    return response


def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, **exc.extra)


def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = _("Send a valid API token as 'Authorization: Bearer …'.")
    return error_response(401, "unauthorized", message)


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return not_found()


def _invalid_parameter(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """ninja's checks of the parameters (a 422 of its own by default), in the API's words."""
    problem = exc.errors[0]
    where, *names = problem["loc"]
    if where == "path":
        # The path parameters are ids, and what is not an id names nothing.
        return not_found(_nothing_there(request, names))
    field = str(names[0]) if names else str(where)
    context = problem.get("ctx", {})
    if problem["type"] == "enum":
        choices = context["expected"].replace("'", "").replace(" or ", ", ")
        message = _("%(field)s must be one of: %(choices)s.") % {"field": field, "choices": choices}
    elif problem["type"] == "greater_than_equal":
        message = _("%(field)s must be at least %(limit)s.") % {
            "field": field,
            "limit": context["ge"],
        }
    elif problem["type"].startswith("int_"):
        message = _("%(field)s must be a whole number.") % {"field": field}
    else:
        message = _("%(field)s is not valid.") % {"field": field}
    return error_response(400, "invalid", message, field=field)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's own refusals; the one it makes is of a JSON body it cannot parse."""
    if exc.status_code == 400:
        return error_response(400, "bad_request", _("The request body cannot be read as JSON."))
    return error_response(exc.status_code, "error", str(exc))


def _nothing_there(request: HttpRequest, names: list[Any]) -> str:
    if names and names[0] == "group_id":
        if "/batches/" in request.path:
            return _("There is no such batch.")
        return _("There is no such comparison.")
    return _("There is no such edit.")


def _unreadable_body(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A body Django will not read: too big, too many parts, or not a well-formed form."""
    if isinstance(exc, RequestDataTooBig):  # its form fields, past DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(413, "request_too_large", _("The request body is too large."))
    if isinstance(exc, TooManyFilesSent):
        return error_response(400, "too_many", _("The request has too many files."))
    if isinstance(exc, TooManyFieldsSent):
        return error_response(400, "too_many", _("The request has too many fields."))
    message = _("The request body cannot be read as a form.")
    return error_response(400, "bad_request", message)


def _refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    """What Django itself answers 403 or 400 for, in the API's shape."""
    if isinstance(exc, PermissionDenied):
        return error_response(403, "forbidden", _("This token may not do that."))
    return error_response(400, "bad_request", _("The request cannot be read."))


def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Anything else: logged with its traceback, and told to error reporters, as Django does
    for a page; the client gets the API's JSON, with nothing of the traceback in it."""
    got_request_exception.send(sender=None, request=request)
    message = _(
        "Gaitu could not answer this time. Try again in a moment; if it keeps happening, tell "
        "the person who runs this Gaitu."
    )
    response = error_response(500, "server_error", message)
    log_response(
        "%s: %s", "Internal Server Error", request.path, response=response, request=request,
        exception=exc,
    )  # fmt: skip
    return response


# Each handler takes the exception it is listed with (ninja's own annotation of handlers, which
# also admits exception classes, is wider than any handler). ninja takes the handler of the
# closest class in an exception's MRO, so Exception's is only for what none other names.
Handler = Callable[[HttpRequest, Any], HttpResponse]
HANDLERS: list[tuple[type[Exception], Handler]] = [
    (ApiError, _api_error),
    (AuthenticationError, _unauthorized),
    (ValidationError, _invalid_parameter),
    (HttpError, _http_error),
    (Http404, _not_found),
    *(
        (unreadable, _unreadable_body)
        for unreadable in (
            RequestDataTooBig,
            TooManyFilesSent,
            TooManyFieldsSent,
            SuspiciousMultipartForm,
            MultiPartParserError,
        )
    ),
    (PermissionDenied, _refused),
    (BadRequest, _refused),
    (SuspiciousOperation, _refused),
    (Exception, _server_error),
]


def install(api: NinjaAPI) -> None:
    """Answer everything a view, ninja or Django raises in the API's own shape."""
    for exception, handler in HANDLERS:
        api.add_exception_handler(exception, handler)
