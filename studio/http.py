"""The requests the studio's views are written for, as the middleware makes them."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.access import AuthenticatedHttpRequest


class HtmxHttpRequest(HttpRequest):
    """A request django-htmx's middleware has read: `request.htmx` says whether htmx sent it
    (and from which page), as in django-htmx's own example app."""

    htmx: HtmxDetails


class AuthenticatedHtmxRequest(AuthenticatedHttpRequest, HtmxHttpRequest):
    """A signed-in person's request, htmx's or the browser's: what most studio views get."""
