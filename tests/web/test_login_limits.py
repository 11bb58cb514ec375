"""Wrong passwords are limited per account and per client address on every way in, counted in
the database, and never keep out a browser that has logged in as the account before."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core import signing
from django.core.cache import cache
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import throttle
from accounts.models import AuthAttempt

PASSWORD = "correct horse battery"  # the owner fixture's
OWNER_ADDRESS = "198.51.100.7"
ATTACKER_ADDRESS = "203.0.113.66"


def log_in(client: Client, username: str = "owner", password: str = PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def lock_the_account(username: str = "owner", address: str = ATTACKER_ADDRESS) -> None:
    """Someone without the account's device cookie gets it wrong until it is locked."""
    attacker = Client()
    for _ in range(throttle.ACCOUNT_FAILURES_ALLOWED):
        assert log_in(attacker, username, "guess", REMOTE_ADDR=address).status_code == 200
    assert log_in(attacker, username, "guess", REMOTE_ADDR=address).status_code == 429


def browser_that_logged_in(address: str = OWNER_ADDRESS) -> Client:
    """The owner's own browser: it logged in once (so it holds the device cookie) and out."""
    browser = Client(REMOTE_ADDR=address)
    log_in(browser)
    assert logged_in(browser)
    browser.post(reverse("logout"))  # a browser keeps its cookies; Client.logout() would not
    return browser


# --- Names and addresses --------------------------------------------------------------------


def test_django_logs_in_with_look_alike_names(client, owner):
    # Why the names are normalised: Django reads a login name as NFKC, so these are "owner".
    assert log_in(client, "ｏwner").status_code == 302
    assert logged_in(client)


@pytest.mark.parametrize("look_alike", ["ｏwner", "𝐨wner", "owｎer", "OWNER", " owner "])
def test_look_alike_names_have_the_accounts_key(look_alike):
    assert throttle.account_key(look_alike) == throttle.account_key("owner")


def test_look_alike_names_share_one_counter(owner):
    attacker = Client(REMOTE_ADDR=ATTACKER_ADDRESS)
    for name in ["owner", "ｏwner", "𝐨wner", "owｎer", "Owner"]:
        assert log_in(attacker, name, "guess").status_code == 200
    for name in ["ｏwner", "𝐨wner", "owner"]:
        assert log_in(attacker, name).status_code == 429
    assert not logged_in(attacker)


def test_the_name_typed_is_not_kept(owner):
    log_in(Client(), "my secret password", "guess")
    row = AuthAttempt.objects.get()
    assert "secret" not in row.account
    assert row.account == throttle.account_key("my secret password")


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("2001:db8:1:2::a", "2001:db8:1:2:ffff::b", True),
        ("2001:db8:1:2::a", "2001:db8:1:3::a", False),
        ("::ffff:192.0.2.1", "192.0.2.1", True),
        ("192.0.2.1", "192.0.2.2", False),
    ],
)
def test_ipv6_addresses_are_counted_by_their_64_network(one, other, same):
    assert (throttle.address_key(one) == throttle.address_key(other)) is same


# --- The account's limit and the device cookie ----------------------------------------------


def test_a_locked_account_refuses_even_the_right_password(owner, monkeypatch):
    lock_the_account()
    checked = []
    original = ModelBackend.authenticate

    def authenticate(self, request, **credentials):
        checked.append(credentials.get("username"))
        return original(self, request, **credentials)

    monkeypatch.setattr(ModelBackend, "authenticate", authenticate)
    stranger = Client(REMOTE_ADDR="192.0.2.50")  # elsewhere, and no device cookie
    refused = log_in(stranger)
    assert refused.status_code == 429
    assert "Too many failed attempts for this account" in refused.text
    assert "Try again in 15 minutes" in refused.text
    assert not logged_in(stranger)
    assert checked == []  # the password was not even looked at


def test_the_refusal_says_how_long_is_left(owner):
    lock_the_account()
    AuthAttempt.objects.update(created_at=F("created_at") - timedelta(minutes=10))
    refused = log_in(Client())
    assert refused.status_code == 429
    assert "Try again in 5 minutes" in refused.text


def test_a_lock_ends_when_the_window_has_passed(owner):
    lock_the_account()
    AuthAttempt.objects.update(created_at=F("created_at") - throttle.LOGIN_WINDOW)
    assert log_in(Client()).status_code == 302


def test_the_owner_with_a_device_cookie_logs_in_while_the_account_is_locked(owner):
    browser = browser_that_logged_in(address=ATTACKER_ADDRESS)  # even behind the same NAT
    lock_the_account(address=ATTACKER_ADDRESS)
    assert log_in(browser).status_code == 302
    assert logged_in(browser)


def test_the_device_cookie(owner, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = log_in(Client())
    cookie = response.cookies[throttle.DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["secure"]
    assert int(cookie["max-age"]) == throttle.DEVICE_COOKIE_AGE.total_seconds()
    devices = signing.loads(cookie.value, salt=throttle.DEVICE_COOKIE_SALT)
    assert list(devices) == [throttle.account_key("owner")]


def test_a_device_cookie_is_for_its_account_only(owner, stranger):
    browser = browser_that_logged_in()
    lock_the_account("stranger")
    assert log_in(browser, "stranger", "another long password").status_code == 429


def test_a_forged_device_cookie_counts_for_nothing(owner):
    lock_the_account()
    browser = Client()
    forged = signing.dumps({throttle.account_key("owner"): "made-up"}, salt="another salt")
    browser.cookies[throttle.DEVICE_COOKIE] = forged
    assert log_in(browser).status_code == 429


def test_a_device_cookie_has_a_few_tries_of_its_own(owner):
    browser = browser_that_logged_in()
    lock_the_account()
    for _ in range(throttle.DEVICE_FAILURES_ALLOWED):
        assert log_in(browser, password="typo").status_code == 200
    # Used up: the browser is now a stranger, and strangers are locked out of the account.
    assert log_in(browser).status_code == 429


def test_a_good_login_forgives_the_browsers_own_failures(owner):
    browser = browser_that_logged_in()
    for _ in range(throttle.DEVICE_FAILURES_ALLOWED - 1):
        log_in(browser, password="typo")
    log_in(browser)
    browser.post(reverse("logout"))
    lock_the_account()
    for _ in range(throttle.DEVICE_FAILURES_ALLOWED):
        assert log_in(browser, password="typo").status_code == 200


# --- The address's limit --------------------------------------------------------------------


def test_one_address_cannot_guess_at_many_accounts(owner):
    browser = browser_that_logged_in(address=ATTACKER_ADDRESS)
    attacker = Client(REMOTE_ADDR=ATTACKER_ADDRESS)
    for n in range(throttle.ADDRESS_FAILURES_ALLOWED):
        assert log_in(attacker, f"person{n}", "guess").status_code == 200
    refused = log_in(attacker, "someone else", "guess")
    assert refused.status_code == 429
    assert "from your network" in refused.text
    # Everything from that address stops, a browser with a device cookie too ...
    assert log_in(browser).status_code == 429
    # ... but not from elsewhere.
    assert log_in(Client(REMOTE_ADDR=OWNER_ADDRESS)).status_code == 302


def test_an_ipv6_client_is_limited_by_its_network(owner):
    for n in range(throttle.ADDRESS_FAILURES_ALLOWED):
        log_in(Client(), f"person{n}", "guess", REMOTE_ADDR=f"2001:db8:5:6::{n + 1:x}")
    assert log_in(Client(), REMOTE_ADDR="2001:db8:5:6:abcd::1").status_code == 429
    assert log_in(Client(), REMOTE_ADDR="2001:db8:5:7::1").status_code == 302


# --- Kept in the database ---------------------------------------------------------------------


def test_the_counts_are_in_the_database_for_every_process(owner):
    lock_the_account()
    assert AuthAttempt.objects.filter(
        kind=AuthAttempt.Kind.LOGIN, account=throttle.account_key("owner"), device=""
    ).count() == (throttle.ACCOUNT_FAILURES_ALLOWED)
    cache.clear()  # the old counters were in the per-process cache: this reset them
    assert log_in(Client(REMOTE_ADDR="192.0.2.99")).status_code == 429


def test_old_rows_are_deleted(owner):
    AuthAttempt.objects.create(
        kind=AuthAttempt.Kind.LOGIN,
        account=throttle.account_key("owner"),
        address=ATTACKER_ADDRESS,
        created_at=timezone.now() - throttle.KEPT_FOR - timedelta(seconds=1),
    )
    log_in(Client(), password="guess")
    assert AuthAttempt.objects.count() == 1  # the new one


def test_a_right_password_is_not_counted(owner):
    log_in(Client())
    assert not AuthAttempt.objects.exists()


# --- Every way in -----------------------------------------------------------------------------


@pytest.fixture
def boss(db):
    return get_user_model().objects.create_superuser("boss", password=PASSWORD)


def test_the_admin_logs_in_through_the_login_page(client, boss):
    to_admin_login = client.get(reverse("admin:index"))
    assert to_admin_login["Location"] == f"{reverse('admin:login')}?next=/admin/"
    to_login = client.get(to_admin_login["Location"])
    assert to_login["Location"] == f"{reverse('login')}?next=%2Fadmin%2F"
    page = client.get(to_login["Location"])
    assert 'name="next" value="/admin/"' in page.text
    response = client.post(
        reverse("login"), {"username": "boss", "password": PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admins_own_login_form_logs_nobody_in(client, boss):
    response = client.post(reverse("admin:login"), {"username": "boss", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not logged_in(client)


def test_admin_logins_are_limited_like_any_other(boss):
    lock_the_account("boss")
    refused = Client().post(
        reverse("login"), {"username": "boss", "password": PASSWORD, "next": "/admin/"}
    )
    assert refused.status_code == 429


def test_the_admin_sends_a_signed_in_non_staff_person_nowhere_in_circles(owner_client):
    assert owner_client.get(reverse("admin:index"))["Location"].startswith(reverse("admin:login"))
    assert owner_client.get(reverse("admin:login")).status_code == 403


def test_the_admins_password_change_is_ours(client, boss):
    client.force_login(boss)
    assert client.get("/admin/password_change/")["Location"] == reverse("password_change")


def test_sign_ups_are_limited_per_address(client, owner, settings):
    settings.GAITU_SIGNUP = True
    mismatched = {"username": "lin", "password1": "a long pass phrase", "password2": "other"}
    for _ in range(throttle.SIGNUPS_ALLOWED):
        assert client.post(reverse("signup"), mismatched).status_code == 200
    good = {"username": "lin", "password1": "a long pass phrase", "password2": "a long pass phrase"}
    refused = client.post(reverse("signup"), good)
    assert refused.status_code == 429
    assert "Too many sign-ups from your network" in refused.text
    assert not get_user_model().objects.filter(username="lin").exists()
    elsewhere = Client(REMOTE_ADDR="192.0.2.8")
    assert elsewhere.post(reverse("signup"), good)["Location"] == reverse("studio")


def test_guessing_the_old_password_counts_against_the_account(owner_client, owner):
    wrong = {
        "old_password": "guess",
        "new_password1": "new long phrase",
        "new_password2": "new long phrase",
    }
    for _ in range(throttle.ACCOUNT_FAILURES_ALLOWED):
        assert owner_client.post(reverse("password_change"), wrong).status_code == 200
    right = {**wrong, "old_password": PASSWORD}
    refused = owner_client.post(reverse("password_change"), right)
    assert refused.status_code == 429
    assert "Try again in 15 minutes" in refused.text
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert log_in(Client()).status_code == 429  # the same account's count


def test_a_right_old_password_with_a_mistyped_new_one_is_not_a_guess(owner_client):
    mismatched = {
        "old_password": PASSWORD,
        "new_password1": "new long phrase",
        "new_password2": "x",
    }
    for _ in range(throttle.ACCOUNT_FAILURES_ALLOWED + 1):
        assert owner_client.post(reverse("password_change"), mismatched).status_code == 200
    assert not AuthAttempt.objects.exists()
