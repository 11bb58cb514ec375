"""Login attempts: a few failures per address and name, then a pause (kept in the cache)."""

from django.core.cache import cache
from django.http import HttpRequest

LOGIN_WINDOW = 15 * 60  # seconds
LOGIN_FAILURES_ALLOWED = 5


def _login_key(request: HttpRequest, username: str) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    return f"login-failures:{address}:{username.strip().lower()}"


def login_blocked(request: HttpRequest, username: str) -> bool:
    failures: int = cache.get(_login_key(request, username), 0)
    return failures >= LOGIN_FAILURES_ALLOWED


def record_login_failure(request: HttpRequest, username: str) -> None:
    key = _login_key(request, username)
    cache.add(key, 0, LOGIN_WINDOW)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, LOGIN_WINDOW)


def clear_login_failures(request: HttpRequest, username: str) -> None:
    cache.delete(_login_key(request, username))
