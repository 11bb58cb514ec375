"""Two web servers on one database, as when Gaitu is scaled out: wrong passwords sent to one
count at the other, because the counts are in the database and not in a process's memory."""

import re
import signal

import httpx
import pytest

from accounts import throttle
from tests.support.live import PASSWORD, Gaitu, stop


@pytest.fixture(scope="module")
def two_web_servers(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("login-limits")
    first = Gaitu(data_dir)
    second = Gaitu(data_dir, same_as=first)  # one database: both count the same tries
    first.manage("createsuperuser", "--noinput", "--username", "boss", "--email", "b@example.com",
                 DJANGO_SUPERUSER_PASSWORD=PASSWORD)  # fmt: skip
    web_servers = []
    try:
        for gaitu in (first, second):
            web_servers.append(gaitu.start("serve", "--no-worker"))
            gaitu.wait_until_up(web_servers[-1])
        yield first, second
    finally:
        for proc in web_servers:
            stop(proc, signal.SIGTERM)
        first.kill_leftovers()  # the data folder is the same: this is both's


def log_in(gaitu: Gaitu, password: str) -> httpx.Response:
    with httpx.Client(base_url=gaitu.url, timeout=30) as browser:
        form = browser.get("/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        return browser.post(
            "/login/",
            data={"username": "boss", "password": password, "csrfmiddlewaretoken": token},
        )


def test_failures_at_one_server_lock_the_account_at_the_other(two_web_servers):
    first, second = two_web_servers
    assert first.port != second.port
    for _ in range(throttle.ACCOUNT_FAILURES_ALLOWED):
        assert log_in(first, "a guess").status_code == 200
    refused = log_in(second, PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed attempts for this account" in refused.text
