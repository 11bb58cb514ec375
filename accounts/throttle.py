"""How many wrong passwords and codes we take, per account and per client address, before a
pause; and the device cookie that keeps the right person out of an account's pause.

The policy (OWASP's "device cookie"): a browser that has logged in as an account gets a signed
cookie for it. A lock on the account stops only browsers without one; a browser with one has a
few tries of its own. So someone guessing a password from elsewhere (or from behind the same
NAT) cannot keep the owner out, and the address limit still stops one address guessing at many
accounts. Every try is counted in the database (AuthAttempt) before the secret is checked, and
removed again if it was right, so tries sent at the same moment cannot slip past the count.
"""

import math
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext

from webapp.server_limits import address_key as client_address_key

from .models import AuthAttempt

# Failures are counted over the last 15 minutes, so a pause ends at most 15 minutes after the
# failure that started it.
LOGIN_WINDOW = timedelta(minutes=15)
# Five wrong tries per account from browsers without its device cookie: enough for a person's
# typos, and at most 480 guesses a day against an account, which no password worth the name
# (and no 6-digit code with the account's pause) falls to.
ACCOUNT_FAILURES_ALLOWED = 5
# A browser with the account's device cookie has five tries of its own; after those the
# cookie counts for nothing until the window has passed (so a stolen cookie buys little).
DEVICE_FAILURES_ALLOWED = 5
# Twenty wrong tries per client address, whatever the account: a household or office behind
# one address has room for its typos, one address cannot guess at many accounts, and IPv6
# clients (who easily have a whole /64 to themselves) are counted by that network.
ADDRESS_FAILURES_ALLOWED = 20
# Ten sign-up forms an hour per address: a family signing up, not a script making accounts.
SIGNUP_WINDOW = timedelta(hours=1)
SIGNUPS_ALLOWED = 10
# Rows older than the longest window count for nothing.
KEPT_FOR = max(LOGIN_WINDOW, SIGNUP_WINDOW)

DEVICE_COOKIE = "gaitu_device"
# A year: the cookie only ever helps its browser, so there is no reason to make people earn it
# again often; each login replaces it.
DEVICE_COOKIE_AGE = timedelta(days=365)
DEVICE_COOKIE_SALT = "accounts.throttle.device"
# A browser shared by a few people keeps a cookie for each of the last few accounts.
DEVICE_COOKIE_ACCOUNTS = 5


def account_key(username: str) -> str:
    """The account's key for counting: the name as Django reads it at login (NFKC, stripped),
    casefolded and normalised again, so 'ｄave', '𝐝ave' and 'Dave' are counted as 'dave'.
    Kept as a keyed hash: people sometimes type their password into the name field."""
    name = get_user_model().normalize_username(username.strip())
    folded = unicodedata.normalize("NFKC", name.casefold()).strip()
    return salted_hmac("accounts.throttle.account", folded, algorithm="sha256").hexdigest()


def address_key(address: str) -> str:
    """The client address for counting, as the web server counts its connections (an IPv6
    one by its /64), cut to fit the column."""
    return client_address_key(address)[:64]


class Reason(StrEnum):
    ADDRESS = "address"
    ACCOUNT = "account"
    SIGNUP = "signup"


@dataclass(frozen=True)
class Refusal:
    """A try refused before anything was checked, and how long until one is taken again."""

    reason: Reason
    wait: timedelta

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60))

    @property
    def message(self) -> str:
        if self.reason == Reason.SIGNUP:
            text = ngettext(
                "Too many sign-ups from your network. Try again in %(minutes)d minute.",
                "Too many sign-ups from your network. Try again in %(minutes)d minutes.",
                self.minutes,
            )
        elif self.reason == Reason.ADDRESS:
            text = ngettext(
                "Too many failed attempts from your network. Try again in %(minutes)d minute.",
                "Too many failed attempts from your network. Try again in %(minutes)d minutes.",
                self.minutes,
            )
        else:
            text = ngettext(
                "Too many failed attempts for this account. Try again in %(minutes)d minute, "
                "or from a browser you have logged in with before.",
                "Too many failed attempts for this account. Try again in %(minutes)d minutes, "
                "or from a browser you have logged in with before.",
                self.minutes,
            )
        return text % {"minutes": self.minutes}


@dataclass
class LoginAttempt:
    """A try at an account's password or code, counted as a failure from the moment it
    begins; call succeeded() when the secret was right."""

    row: AuthAttempt
    device: str  # the honoured device cookie's id, or ""

    def succeeded(self) -> None:
        """Not a failure after all; and the browser's own failures are forgiven."""
        self.row.delete()
        if self.device:
            AuthAttempt.objects.filter(kind=AuthAttempt.Kind.LOGIN, device=self.device).delete()


def begin_login_attempt(request: HttpRequest, username: str) -> LoginAttempt | Refusal:
    """Count a try at the account named username from this client, or refuse it (and count
    nothing) when the client's address, or the account for a browser without its device
    cookie, has had too many failures. Check the secret only when a LoginAttempt comes back."""
    now = timezone.now()
    _forget_old(now)
    account = account_key(username)
    address = address_key(request.META.get("REMOTE_ADDR", ""))
    failures = AuthAttempt.objects.filter(
        kind=AuthAttempt.Kind.LOGIN, created_at__gte=now - LOGIN_WINDOW
    )
    device = _device_id(request, account) or ""
    if device and failures.filter(device=device).count() >= DEVICE_FAILURES_ALLOWED:
        device = ""  # used up: this browser is a stranger to the account until the window ends
    # Counted first, checked after: of many tries sent at once, only those that fit pass.
    row = AuthAttempt.objects.create(
        kind=AuthAttempt.Kind.LOGIN, account=account, address=address, device=device, created_at=now
    )
    limits = [(failures.filter(address=address), ADDRESS_FAILURES_ALLOWED, Reason.ADDRESS)]
    if device:
        limits.append((failures.filter(device=device), DEVICE_FAILURES_ALLOWED, Reason.ACCOUNT))
    else:
        limits.append(
            (failures.filter(account=account, device=""), ACCOUNT_FAILURES_ALLOWED, Reason.ACCOUNT)
        )
    for counted, allowed, reason in limits:
        if counted.count() > allowed:
            row.delete()
            return Refusal(reason, _time_until_below(counted, allowed, LOGIN_WINDOW, now))
    return LoginAttempt(row, device)


def begin_signup(request: HttpRequest) -> Refusal | None:
    """Count a sign-up form sent from this client's address, or refuse it when there were too
    many in the last hour. Every form counts, accepted or not."""
    now = timezone.now()
    _forget_old(now)
    address = address_key(request.META.get("REMOTE_ADDR", ""))
    row = AuthAttempt.objects.create(kind=AuthAttempt.Kind.SIGNUP, address=address, created_at=now)
    counted = AuthAttempt.objects.filter(
        kind=AuthAttempt.Kind.SIGNUP, address=address, created_at__gte=now - SIGNUP_WINDOW
    )
    if counted.count() > SIGNUPS_ALLOWED:
        row.delete()
        return Refusal(
            Reason.SIGNUP, _time_until_below(counted, SIGNUPS_ALLOWED, SIGNUP_WINDOW, now)
        )
    return None


def remember_device(response: HttpResponseBase, request: HttpRequest, username: str) -> None:
    """Give the browser that just logged in as username a new device cookie for the account
    (keeping its cookies for the last few other accounts)."""
    account = account_key(username)
    devices = {key: value for key, value in _devices(request).items() if key != account}
    devices[account] = secrets.token_urlsafe(16)
    kept = dict(list(devices.items())[-DEVICE_COOKIE_ACCOUNTS:])
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(kept, salt=DEVICE_COOKIE_SALT),
        max_age=int(DEVICE_COOKIE_AGE.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _devices(request: HttpRequest) -> dict[str, str]:
    """The browser's device cookie: account key -> device id, when it is ours and current."""
    try:
        value = signing.loads(
            request.COOKIES.get(DEVICE_COOKIE, ""),
            salt=DEVICE_COOKIE_SALT,
            max_age=DEVICE_COOKIE_AGE,
        )
    except signing.BadSignature:  # also an expired, empty or missing one
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(key): str(device) for key, device in value.items()}


def _device_id(request: HttpRequest, account: str) -> str | None:
    return _devices(request).get(account)


def _time_until_below(
    counted: QuerySet[AuthAttempt], allowed: int, window: timedelta, now: datetime
) -> timedelta:
    """How long until fewer than `allowed` of the counted rows are in the window: until the
    allowed-th newest one leaves it."""
    times = counted.order_by("-created_at").values_list("created_at", flat=True)
    nth_newest = list(times[allowed - 1 : allowed])
    if not nth_newest:
        return timedelta(0)
    return max(timedelta(0), nth_newest[0] + window - now)


def _forget_old(now: datetime) -> None:
    AuthAttempt.objects.filter(created_at__lt=now - KEPT_FOR).delete()
