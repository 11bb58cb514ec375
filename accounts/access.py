"""Who is asking: a logged-in browser, or a script with an API token."""

from collections.abc import Awaitable, Callable
from functools import wraps

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .models import ApiToken


class AuthenticatedHttpRequest(HttpRequest):
    """A request to a view LoginRequiredMiddleware guards (every view not marked
    login_not_required): its user is signed in. For annotations; Django makes the requests."""

    user: User
    auser: Callable[[], Awaitable[User]]


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def requesting_user(request: HttpRequest) -> User | None:
    """The session's user, else the API token's user, else None."""
    if request.user.is_authenticated:
        return request.user
    token = bearer_token(request)
    return ApiToken.authenticate(token) if token else None


type View = Callable[..., HttpResponse]


def owner_only(view: View) -> View:
    """Only the site's owner (its superuser) may use the view (the ready-made instructions,
    the providers); anyone else signed in gets the 403 page, as on /people/ (accounts.views)."""

    @wraps(view)
    def guarded(request: AuthenticatedHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded
