"""`GET /healthz`: 200 while the database answers, 503 when it does not, for anyone, with no
cookie and no caching, as container health checks and load balancers need."""

import logging
from unittest import mock

import pytest
from django.db import DatabaseError, OperationalError, connection
from django.urls import reverse

from tests.web.test_security_headers import settings_under

pytestmark = pytest.mark.django_db


def test_the_address_is_healthz():
    assert reverse("healthz") == "/healthz"


def test_ok_while_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_the_database_is_really_asked(client, django_assert_num_queries):
    with django_assert_num_queries(1) as context:
        client.get("/healthz")
    assert context.captured_queries[0]["sql"] == "SELECT 1"


@pytest.mark.parametrize(
    "failure",
    [OperationalError("connection refused"), DatabaseError("server closed the connection")],
)
def test_unavailable_when_the_database_fails(client, caplog, failure):
    with (
        mock.patch.object(connection, "cursor", side_effect=failure),
        caplog.at_level(logging.WARNING, logger="webapp.health"),
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database"}
    # The operator's log says why; the answer says nothing more than "database".
    assert str(failure) in caplog.text
    assert str(failure) not in response.content.decode()


def test_anyone_may_ask_without_logging_in(client, settings):
    settings.GAITU_REQUIRE_2FA = True
    response = client.get("/healthz", follow=False)
    assert response.status_code == 200


def test_a_signed_in_person_without_two_factor_is_not_sent_to_set_it_up(owner_client, settings):
    settings.GAITU_REQUIRE_2FA = True
    # The page they would be sent to otherwise, so that the check below can fail.
    assert owner_client.get(reverse("studio")).status_code == 302
    assert owner_client.get("/healthz").status_code == 200


def test_no_cookie_is_set_and_nothing_is_cached(client):
    response = client.get("/healthz")
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "no-cache", "max-age=0"} <= cache_control


def test_head_answers_like_get_without_a_body(client):
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""


def test_only_reading_methods_are_allowed(client):
    assert client.post("/healthz").status_code == 405


def test_health_checks_over_plain_http_are_answered_behind_https(client, settings, tmp_path):
    """GAITU_HTTPS=1 redirects plain HTTP to https://, but not the health check, which
    containers and load balancers send over plain HTTP from inside."""
    https = settings_under(tmp_path, GAITU_HTTPS="1")
    settings.SECURE_SSL_REDIRECT = https["SECURE_SSL_REDIRECT"]
    settings.SECURE_REDIRECT_EXEMPT = https["SECURE_REDIRECT_EXEMPT"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/login/").status_code == 301
