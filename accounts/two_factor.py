"""Two-factor sign-in with an authenticator app (TOTP, django-otp) and one-use recovery codes.

An account has it on when it has a confirmed device: its TOTP device (the app) and a static
device holding the recovery codes. Login is then two steps; between them the session holds
only who typed the right password (start_pending_login), not a login.
"""

import re
import time
from base64 import b32encode
from datetime import timedelta

import segno
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user, user_has_device, verify_token
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

RECOVERY_CODES = 10
# The password step holds for five minutes: time to open the app, not to leave the page open.
PENDING_LOGIN_AGE = timedelta(minutes=5)
PENDING_LOGIN_KEY = "two_factor_pending"
SETUP_SECRET_KEY = "two_factor_secret"  # noqa: S105 (a session key's name, not a secret)
NEW_CODES_KEY = "two_factor_new_codes"
# A code from the previous or the next 30 seconds counts too: phones' clocks are not exact.
TOLERANCE = 1


def is_on(user: User) -> bool:
    return bool(user_has_device(user))


def normalize_code(code: str) -> str:
    """A code as typed, without the spaces and dashes people add, in lower case."""
    return re.sub(r"[\s-]", "", code).lower()


def looks_like_code(code: str) -> bool:
    """Six digits (the app's), or eight base32 letters (a recovery code: 40 random bits)."""
    return bool(re.fullmatch(r"\d{6}|[a-z2-7]{8}", code))


def verify_code(user: User, code: str) -> Device | None:
    """The device that accepts the code (a recovery code is used up by it), or None."""
    code = normalize_code(code)
    for device in devices_for_user(user):
        # django-otp's verify_token locks the device row, so one code cannot be used twice at
        # the same moment; a TOTP device also refuses a code it has already accepted.
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


# --- Setting up -------------------------------------------------------------------------------


def setup_secret(request: HttpRequest) -> str:
    """The secret being set up in this session (hex), made on the first visit. It is a device
    only once a code from the app confirms it, so an abandoned set-up leaves nothing behind."""
    secret = request.session.get(SETUP_SECRET_KEY)
    if not isinstance(secret, str):
        secret = random_hex(20)
        request.session[SETUP_SECRET_KEY] = secret
    return secret


def setup_picture(user: User, secret: str) -> dict[str, str]:
    """What the set-up page shows: the QR code (an SVG data URI: the Content Security Policy
    allows data: images) and the secret in base32, in groups of four, for typing in."""
    device = TOTPDevice(user=user, key=secret)
    # Black on white in light and dark mode alike: authenticator apps read that best.
    qr = segno.make(device.config_url, error="m")
    written = b32encode(bytes.fromhex(secret)).decode()
    return {
        "qr": qr.svg_data_uri(scale=5, dark="#000", light="#fff"),
        "secret": " ".join(written[i : i + 4] for i in range(0, len(written), 4)),
    }


def confirm_setup(request: HttpRequest, user: User, code: str) -> TOTPDevice | None:
    """The new app's device, when the code matches the secret being set up; any other app the
    person had is replaced and fresh recovery codes wait in the session to be shown once."""
    secret = request.session.get(SETUP_SECRET_KEY)
    if not isinstance(secret, str):
        return None
    totp = TOTP(bytes.fromhex(secret))
    totp.time = time.time()
    if not totp.verify(int(code), TOLERANCE):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        # last_t: the code just used cannot log in a second time.
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", key=secret, confirmed=True, last_t=totp.t()
        )
        request.session[NEW_CODES_KEY] = new_recovery_codes(user)
    del request.session[SETUP_SECRET_KEY]
    return device


def new_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes in place of any old ones, each good for one login."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, defaults={"name": "Recovery codes", "confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def turn_off(user: User) -> None:
    for device in devices_for_user(user, confirmed=None):
        device.delete()


# --- Between the password and the code ---------------------------------------------------------


def start_pending_login(request: HttpRequest, user: User, next_url: str) -> None:
    """Remember, for a few minutes, that this browser gave user's password."""
    backend = getattr(user, "backend", "django.contrib.auth.backends.ModelBackend")
    request.session.cycle_key()  # a session id from before the password is not the one after
    request.session[PENDING_LOGIN_KEY] = {
        "user": user.pk,
        "backend": backend,
        "next": next_url,
        "until": time.time() + PENDING_LOGIN_AGE.total_seconds(),
    }


def pending_login(request: HttpRequest) -> tuple[User, str, str] | None:
    """(the user, their auth backend, where to go after) for a password step still current."""
    pending = request.session.get(PENDING_LOGIN_KEY)
    if not isinstance(pending, dict) or pending["until"] < time.time():
        return None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        return None
    return user, str(pending["backend"]), str(pending["next"])


def end_pending_login(request: HttpRequest) -> None:
    request.session.pop(PENDING_LOGIN_KEY, None)
