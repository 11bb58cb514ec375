"""Sign-up, login limits, the account page, API tokens, people, usage limits.

The login limits in full are in test_login_limits.py, two-factor sign-in in test_two_factor.py.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from accounts.models import ApiToken
from editor.models import Edit
from tests.support.factories import upload

PASSWORD = "a long pass phrase"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def test_signup_is_closed_by_default(client, owner):
    assert client.get(reverse("signup")).status_code == 404
    assert "signup" not in client.get(reverse("login")).text


def test_open_signup(client, owner, settings):
    settings.GAITU_SIGNUP = True
    assert reverse("signup") in client.get(reverse("login")).text
    response = client.post(
        reverse("signup"), {"username": "lin", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response["Location"] == reverse("studio")
    lin = get_user_model().objects.get(username="lin")
    assert not lin.is_staff and not lin.is_superuser


def test_login_is_rate_limited(client, owner):
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "owner", "password": "wrong"})
        assert response.status_code == 200
    blocked = client.post(
        reverse("login"), {"username": "owner", "password": "correct horse battery"}
    )
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text
    assert "_auth_user_id" not in client.session


def test_after_a_good_login_the_browser_has_tries_of_its_own(client, owner):
    for _ in range(4):
        client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    client.post(reverse("login"), {"username": "owner", "password": "correct horse battery"})
    client.post(reverse("logout"))  # as a browser does: its cookies stay
    # A browser without the account's device cookie would be refused at the second of these.
    for _ in range(5):
        assert (
            client.post(reverse("login"), {"username": "owner", "password": "x"}).status_code == 200
        )


def test_password_change(owner_client, owner):
    response = owner_client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery",
            "new_password1": "another long phrase",
            "new_password2": "another long phrase",
        },
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("another long phrase")
    assert owner_client.get(reverse("studio")).status_code == 200  # still logged in


def test_tokens_are_created_shown_once_listed_and_revoked(owner_client, owner):
    owner_client.post(reverse("token_create"), {"name": "laptop"})
    page = owner_client.get(reverse("account"))
    token = ApiToken.objects.get(user=owner)
    raw = page.context["new_token"]
    assert raw.startswith(token.prefix) and raw in page.text
    assert ApiToken.authenticate(raw) == owner
    again = owner_client.get(reverse("account"))
    assert raw not in again.text and f"{token.prefix}…" in again.text and "laptop" in again.text

    owner_client.post(reverse("token_revoke", args=[token.pk]))
    assert ApiToken.authenticate(raw) is None


def test_another_persons_token_cannot_be_revoked(client, owner, stranger):
    token, raw = ApiToken.issue(owner)
    client.force_login(stranger)
    assert client.post(reverse("token_revoke", args=[token.pk])).status_code == 404
    assert ApiToken.authenticate(raw) == owner


def test_account_shows_usage(owner_client, owner):
    Edit.objects.create(owner=owner, instruction="a", usage={"total_tokens": 1200})
    Edit.objects.create(owner=owner, instruction="b", usage={"total_tokens": 300})
    Edit.objects.create(owner=owner, instruction="c")
    usage = owner_client.get(reverse("account")).context["usage"]
    assert [(row["edits"], row["tokens"]) for row in usage] == [(3, 1500), (3, 1500)]


def test_the_owner_adds_people_and_turns_them_off(client, db):
    User = get_user_model()
    owner = User.objects.create_superuser("boss", password=PASSWORD)
    client.force_login(owner)
    client.post(
        reverse("people"), {"username": "mei", "password1": PASSWORD, "password2": PASSWORD}
    )
    mei = User.objects.get(username="mei")
    assert not mei.is_superuser
    _, raw = ApiToken.issue(mei)
    client.post(reverse("person_toggle", args=[mei.pk]))
    mei.refresh_from_db()
    assert not mei.is_active
    assert ApiToken.authenticate(raw) is None
    client.post(reverse("person_toggle", args=[owner.pk]))
    owner.refresh_from_db()
    assert owner.is_active  # never oneself


def test_people_is_for_the_owner_only(owner_client, stranger):
    # A page that says why, not a redirect to the login page (which, for someone logged in,
    # goes straight back here: a loop).
    page = owner_client.get(reverse("people"))
    assert page.status_code == 403
    assert "Only the owner of this Gaitu can open this page." in page.text
    toggle = owner_client.post(reverse("person_toggle", args=[stranger.pk]))
    assert toggle.status_code == 403
    stranger.refresh_from_db()
    assert stranger.is_active


def test_daily_limit_says_when_it_resets(owner_client, owner, settings):
    settings.GAITU_DAILY_LIMIT = 2
    for n in range(2):
        Edit.objects.create(owner=owner, instruction=f"{n}")
    response = owner_client.post(
        reverse("studio"), {"instruction": "blur", "images": [upload()]}, HTTP_HX_REQUEST="true"
    )
    assert "all 2 edits for today" in response.text and "reset at 00:00" in response.text
    assert Edit.objects.count() == 2


def test_rate_limit_says_how_long_to_wait(owner_client, owner, settings):
    settings.GAITU_RATE_LIMIT = 3
    for n in range(3):
        Edit.objects.create(owner=owner, instruction=f"{n}")
    page = owner_client.post(reverse("studio"), {"instruction": "blur", "images": [upload()]})
    assert page.status_code == 429
    assert "Try again in" in page.text


def test_an_oversized_body_is_refused_before_it_is_read(owner_client, settings):
    settings.GAITU_UPLOAD_MAX_MB = 1
    settings.GAITU_MAX_INPUTS = 1
    big = upload("big.jpg", b"\xff" * (3 * 2**20))
    page = owner_client.post(reverse("studio"), {"instruction": "blur", "images": [big]})
    assert page.status_code == 413
    assert not Edit.objects.exists()
