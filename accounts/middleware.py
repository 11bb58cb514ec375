"""GAITU_REQUIRE_2FA: a browser session that has not given a second factor reaches only the
pages that set one up (and logging out), whatever else it asks for. API tokens are not
sessions and are not affected."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin

from . import two_factor


def two_factor_not_required[View: Callable[..., Any]](view: View) -> View:
    """Mark a view a signed-in person may open before setting up two-factor sign-in."""
    view.two_factor_required = False  # type: ignore[attr-defined]  # read by the middleware
    return view


class TwoFactorRequiredMiddleware(MiddlewareMixin):
    """After django_otp's OTPMiddleware (which tells whether the session gave a code). Like
    LoginRequiredMiddleware, it looks at the view, so it works in process_view; MiddlewareMixin
    keeps it async-capable."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if not settings.GAITU_REQUIRE_2FA or not getattr(view_func, "two_factor_required", True):
            return None
        user = request.user
        # OTPMiddleware gives the user is_verified(): True once the session gave a code.
        if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
            return None
        if two_factor.is_on(user):
            # Set up in another browser since this session logged in: log in again, with a code.
            logout(request)
            return redirect_to_login(request.get_full_path())
        setup = reverse("two_factor_setup")
        return redirect(f"{setup}?{urlencode({'next': request.get_full_path()})}")
