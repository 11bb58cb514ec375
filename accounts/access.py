"""Who is asking: a logged-in browser, or a script with an API token."""

from django.contrib.auth.models import AbstractBaseUser

from .models import ApiToken


def bearer_token(request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def requesting_user(request) -> AbstractBaseUser | None:
    """The session's user, else the API token's user, else None."""
    if request.user.is_authenticated:
        return request.user
    token = bearer_token(request)
    return ApiToken.authenticate(token) if token else None
