from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, include, path, re_path

from .errors import method_not_allowed, not_found
from .v1 import api

View = Callable[..., HttpResponse]

# ninja's names for the URLs it adds (the document, the docs page, the root), in the site's style.
NAMES = {"openapi-json": "api_openapi", "openapi-view": "api_docs", "api-root": "api_root"}


def for_scripts(view: View) -> View:
    """One of the API's views: it needs no session (a token is the API's login, and the document
    and the docs page are public), and it says even "no such address" and "not this method" in
    JSON, where ninja and Django would answer with HTML."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found()
        if isinstance(response, HttpResponseNotAllowed):
            return method_not_allowed(request, response["Allow"])
        return response

    return login_not_required(wrapper)


def api_patterns() -> list[URLPattern]:
    # ninja's patterns without its namespace (GaituAPI), each view marked for scripts.
    return [
        URLPattern(
            pattern.pattern,
            for_scripts(pattern.callback),
            pattern.default_args,
            NAMES.get(pattern.name or "", pattern.name),
        )
        for pattern in api.urls[0]
        if isinstance(pattern, URLPattern)
    ]


def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    raise Http404


urlpatterns = [
    path("api/v1/", include(api_patterns())),
    re_path(r"^api/v1/(?P<rest>.*)$", for_scripts(unknown)),
]
