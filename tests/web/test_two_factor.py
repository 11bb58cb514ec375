"""Two-factor sign-in: setting it up, logging in with the app's code or a recovery code, wrong
codes counted like wrong passwords, turning it off, and GAITU_REQUIRE_2FA."""

import re
import time
from base64 import b32encode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import throttle, two_factor
from accounts.models import ApiToken, AuthAttempt

PASSWORD = "correct horse battery"  # the owner fixture's


def code_for(key_hex: str, steps_ahead: int = 0) -> str:
    """What an authenticator app with this secret shows now (or that many 30 s steps on)."""
    totp = TOTP(bytes.fromhex(key_hex))
    totp.time = time.time() + steps_ahead * totp.step
    return f"{totp.token():06d}"


def turn_on(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return device, two_factor.new_recovery_codes(user)


def log_in(client: Client, username: str = "owner", password: str = PASSWORD, **data):
    return client.post(reverse("login"), {"username": username, "password": password, **data})


def give_code(client: Client, code: str):
    return client.post(reverse("login_code"), {"code": code})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- Setting up -------------------------------------------------------------------------------


def test_setting_up_shows_the_qr_code_and_the_secret_then_the_codes_once(owner_client, owner):
    page = owner_client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text
    secret = owner_client.session[two_factor.SETUP_SECRET_KEY]
    written = b32encode(bytes.fromhex(secret)).decode()
    shown = re.search(r'id="two-factor-secret">([^<]+)<', page.text).group(1)
    assert shown.replace(" ", "") == written
    assert owner_client.get(reverse("two_factor_setup")).context["picture"]["secret"] == shown

    wrong = owner_client.post(reverse("two_factor_setup"), {"code": "000000", "password": PASSWORD})
    assert "does not match" in wrong.text
    malformed = owner_client.post(
        reverse("two_factor_setup"), {"code": "12ab", "password": PASSWORD}
    )
    assert "Enter the 6 digits" in malformed.text
    assert not TOTPDevice.objects.exists()

    done = owner_client.post(
        reverse("two_factor_setup"), {"code": code_for(secret), "password": PASSWORD}
    )
    assert done["Location"].startswith(reverse("two_factor_codes"))
    device = TOTPDevice.objects.get(user=owner)
    assert device.confirmed and device.key == secret
    assert owner_client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id

    codes_page = owner_client.get(done["Location"])
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", codes_page.text)
    assert len(codes) == two_factor.RECOVERY_CODES
    assert sorted(codes) == sorted(StaticToken.objects.values_list("token", flat=True))
    assert owner_client.get(reverse("two_factor_codes"))["Location"] == reverse("account")
    assert "On: logging in takes" in owner_client.get(reverse("account")).text


def test_setting_up_needs_the_password_and_wrong_ones_count_like_logins(owner_client, owner):
    """Someone at a browser left logged in must not tie the account to their own phone."""
    owner_client.get(reverse("two_factor_setup"))
    secret = owner_client.session[two_factor.SETUP_SECRET_KEY]
    for _ in range(throttle.ACCOUNT_FAILURES_ALLOWED):
        wrong = owner_client.post(
            reverse("two_factor_setup"), {"code": code_for(secret), "password": "guess"}
        )
        assert "That is not your password." in wrong.text
    assert not TOTPDevice.objects.exists()
    assert AuthAttempt.objects.count() == throttle.ACCOUNT_FAILURES_ALLOWED
    # Then the account is paused, as after wrong logins: the right password waits too.
    refused = owner_client.post(
        reverse("two_factor_setup"), {"code": code_for(secret), "password": PASSWORD}
    )
    assert "Too many failed attempts for this account" in refused.text
    assert not TOTPDevice.objects.exists()


def test_the_account_page_offers_to_set_it_up(owner_client):
    page = owner_client.get(reverse("account"))
    assert reverse("two_factor_setup") in page.text and "Off." in page.text


# --- Logging in -------------------------------------------------------------------------------


def test_login_takes_the_password_then_the_code(client, owner):
    device, _codes = turn_on(owner)
    step_one = log_in(client, next="/gallery/")
    assert step_one["Location"] == reverse("login_code")
    assert not logged_in(client)
    assert client.get(reverse("studio"))["Location"].startswith(reverse("login"))
    assert client.get(reverse("login_code")).status_code == 200

    step_two = give_code(client, code_for(device.key))
    assert step_two["Location"] == "/gallery/"
    assert logged_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("studio")).status_code == 200


def test_a_wrong_password_never_reaches_the_code_step(client, owner):
    turn_on(owner)
    assert log_in(client, password="guess").status_code == 200
    assert client.get(reverse("login_code"))["Location"] == reverse("login")


def test_an_app_code_works_once(client, owner):
    device, _codes = turn_on(owner)
    code = code_for(device.key)
    log_in(client)
    assert give_code(client, code).status_code == 302
    client.post(reverse("logout"))
    log_in(client)
    again = give_code(client, code)
    assert again.status_code == 200 and "not right" in again.text
    assert not logged_in(client)


def test_a_recovery_code_works_once(client, owner):
    _device, codes = turn_on(owner)
    log_in(client)
    assert give_code(client, codes[0].upper()).status_code == 302  # as typed: case, spaces
    client.post(reverse("logout"))
    log_in(client)
    assert "not right" in give_code(client, codes[0]).text
    assert give_code(client, f"{codes[1][:4]}-{codes[1][4:]} ").status_code == 302
    assert two_factor.recovery_codes_left(owner) == two_factor.RECOVERY_CODES - 2


def test_wrong_codes_count_like_wrong_passwords(owner):
    device, _codes = turn_on(owner)
    owners = Client()  # the owner's browser: it has logged in before, so it has the cookie
    log_in(owners)
    assert give_code(owners, code_for(device.key)).status_code == 302
    owners.post(reverse("logout"))

    attacker = Client(REMOTE_ADDR="203.0.113.66")  # knows the password, not the phone
    log_in(attacker)
    for n in range(throttle.ACCOUNT_FAILURES_ALLOWED):
        assert give_code(attacker, f"{n:06d}").status_code == 200
    assert AuthAttempt.objects.filter(account=throttle.account_key("owner")).count() == 5
    refused = give_code(attacker, code_for(device.key, steps_ahead=1))
    assert refused.status_code == 429
    assert "Too many failed attempts for this account" in refused.text
    assert not logged_in(attacker)
    assert log_in(Client()).status_code == 429  # the password step too, for strangers

    log_in(owners)
    assert give_code(owners, code_for(device.key, steps_ahead=1)).status_code == 302


def test_a_malformed_code_is_refused_by_the_form(client, owner):
    turn_on(owner)
    log_in(client)
    assert "Enter the 6 digits" in give_code(client, "12345").text
    assert not AuthAttempt.objects.exists()


def test_the_code_step_expires(client, owner):
    device, _codes = turn_on(owner)
    log_in(client)
    session = client.session
    session[two_factor.PENDING_LOGIN_KEY]["until"] = time.time() - 1
    session.save()
    assert give_code(client, code_for(device.key))["Location"] == reverse("login")
    assert not logged_in(client)


def test_the_admin_asks_for_the_code_too(client, db):
    boss = get_user_model().objects.create_superuser("boss", password=PASSWORD)
    device, _codes = turn_on(boss)
    assert log_in(client, "boss", next="/admin/")["Location"] == reverse("login_code")
    assert client.get("/admin/")["Location"].startswith(reverse("admin:login"))
    assert give_code(client, code_for(device.key))["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# --- New codes, turning off -------------------------------------------------------------------


def test_new_recovery_codes_need_the_password_or_a_code(owner_client, owner):
    device, old_codes = turn_on(owner)
    refused = owner_client.post(reverse("two_factor_new_codes"), {"secret": "guess"})
    assert refused["Location"] == reverse("account")
    assert two_factor.recovery_codes_left(owner) == two_factor.RECOVERY_CODES
    assert AuthAttempt.objects.count() == 1  # counted like a wrong password

    done = owner_client.post(reverse("two_factor_new_codes"), {"secret": code_for(device.key)})
    assert done["Location"] == reverse("two_factor_codes")
    new_codes = owner_client.get(done["Location"]).context["codes"]
    assert len(new_codes) == two_factor.RECOVERY_CODES
    assert not set(new_codes) & set(old_codes)
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(new_codes)


def test_turning_off_needs_the_password_or_a_code(owner_client, owner):
    turn_on(owner)
    owner_client.post(reverse("two_factor_off"), {"secret": "guess"})
    assert two_factor.is_on(owner)
    owner_client.post(reverse("two_factor_off"), {"secret": PASSWORD})
    assert not two_factor.is_on(owner)
    assert not StaticToken.objects.exists()


def test_confirming_is_refused_while_the_account_is_locked(owner_client, owner):
    turn_on(owner)
    for _ in range(throttle.ACCOUNT_FAILURES_ALLOWED):
        owner_client.post(reverse("two_factor_off"), {"secret": "guess"})
    refused = owner_client.post(reverse("two_factor_off"), {"secret": PASSWORD})
    assert refused.status_code == 429
    assert "Try again in 15 minutes" in refused.text
    assert two_factor.is_on(owner)


# --- GAITU_REQUIRE_2FA ------------------------------------------------------------------------


@pytest.fixture
def required(settings):
    settings.GAITU_REQUIRE_2FA = True


def test_required_sends_the_person_to_set_up_and_nowhere_else(client, owner, required):
    step_one = log_in(client, next="/gallery/")
    assert step_one["Location"] == f"{reverse('two_factor_setup')}?next=%2Fgallery%2F"
    for path in [reverse("studio"), reverse("account"), "/admin/", reverse("api_docs")]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("two_factor_setup")), path
    page = client.get(step_one["Location"])
    assert page.status_code == 200 and "asks every account" in page.text

    secret = client.session[two_factor.SETUP_SECRET_KEY]
    done = client.post(
        step_one["Location"],
        {"code": code_for(secret), "password": PASSWORD, "next": "/gallery/"},
    )
    codes_page = client.get(done["Location"])
    assert len(codes_page.context["codes"]) == two_factor.RECOVERY_CODES
    assert 'href="/gallery/"' in codes_page.text
    assert client.get(reverse("gallery")).status_code == 200


def test_required_still_lets_the_person_log_out(client, owner, required):
    log_in(client)
    client.post(reverse("logout"))
    assert not logged_in(client)


def test_required_for_an_older_session_that_gave_no_code(client, owner, required):
    turn_on(owner)
    client.force_login(owner)  # e.g. logged in before two-factor was set up elsewhere
    response = client.get(reverse("studio"))
    assert response["Location"].startswith(reverse("login"))
    assert not logged_in(client)


def test_required_leaves_api_tokens_working(client, owner, required):
    _token, raw = ApiToken.issue(owner)
    response = client.get(reverse("api_edits"), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_required_with_a_device_is_the_usual_two_steps(client, owner, required):
    device, _codes = turn_on(owner)
    assert log_in(client)["Location"] == reverse("login_code")
    assert give_code(client, code_for(device.key))["Location"] == reverse("studio")
    assert client.get(reverse("studio")).status_code == 200


def test_not_required_lets_a_session_without_a_code_be(owner_client, owner):
    turn_on(owner)
    assert owner_client.get(reverse("studio")).status_code == 200
