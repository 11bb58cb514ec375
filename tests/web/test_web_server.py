"""The web server's settings: trusted proxies, client addresses, the overall cap, the uvicorn
command line that `manage.py serve` builds from them, and the system checks of them.

What the server does with them on real sockets: tests/e2e/test_slow_clients.py and
tests/e2e/test_proxies.py.
"""

import ipaddress
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from uvicorn.importer import import_from_string
from uvicorn.main import main as uvicorn_cli

from webapp.checks import check_server_timeouts, check_trusted_proxies
from webapp.server import GuardedHttpProtocol, web_server_command
from webapp.server_limits import (
    address_key,
    forwarded_allow_ips,
    is_trusted_proxy,
    overall_connection_cap,
    parse_trusted_proxies,
)

ROOT = Path(__file__).resolve().parents[2]

# --- Trusted proxies -------------------------------------------------------------------------


def test_trusted_proxies_are_addresses_and_networks():
    assert parse_trusted_proxies(["127.0.0.1", " 10.0.0.0/8 ", "::1", "fd00::/8"]) == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("fd00::/8"),
    )
    assert parse_trusted_proxies([]) == ()


def test_an_address_with_a_prefix_means_its_network():
    assert parse_trusted_proxies(["172.18.0.5/16"]) == (ipaddress.ip_network("172.18.0.0/16"),)


@pytest.mark.parametrize("entry", ["nginx", "*", "10.0.0.0/33", "10.0.0", "localhost"])
def test_anything_else_is_refused_by_name(entry):
    with pytest.raises(ValueError, match="is not an IP address or network") as refused:
        parse_trusted_proxies(["127.0.0.1", entry])
    assert repr(entry) in str(refused.value)


def test_ipv4_proxies_are_also_trusted_as_seen_by_a_server_on_both_families():
    networks = parse_trusted_proxies(["10.0.0.0/8", "127.0.0.1", "fd00::/8"])
    assert forwarded_allow_ips(networks) == (
        "10.0.0.0/8,::ffff:10.0.0.0/104,127.0.0.1/32,::ffff:127.0.0.1/128,fd00::/8"
    )


@pytest.mark.parametrize(
    ("host", "trusted"),
    [
        ("10.1.2.3", True),
        ("::ffff:10.1.2.3", True),
        ("11.0.0.1", False),
        ("fd00::7", True),
        ("2001:db8::7", False),
        ("unix-socket-peer", False),
    ],
)
def test_is_trusted_proxy(host, trusted):
    assert is_trusted_proxy(host, parse_trusted_proxies(["10.0.0.0/8", "fd00::/8"])) is trusted


def test_nobody_is_trusted_by_default():
    assert not is_trusted_proxy("127.0.0.1", ())


# --- What one client address is --------------------------------------------------------------


def test_an_ipv4_client_is_its_address_however_written():
    assert address_key("203.0.113.9") == address_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert address_key("203.0.113.9") != address_key("203.0.113.10")


def test_an_ipv6_client_is_its_64():
    """Its privacy addresses change by the hour within the /64 it was given."""
    one = address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd")
    assert one == address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert one != address_key("2001:db8:1:3::1")


# --- The overall cap -------------------------------------------------------------------------


def test_the_overall_cap_leaves_files_for_the_server_itself():
    assert overall_connection_cap(1024) == 1024 - 128
    assert overall_connection_cap(200) == 100  # a small limit keeps half
    assert overall_connection_cap(resource.RLIM_INFINITY) is None


# --- The command line ------------------------------------------------------------------------


def uvicorn_options(command: list[str]) -> dict:
    """What uvicorn's own command line makes of the arguments after `python -m uvicorn`."""
    assert command[:4] == ["/venv/python", "-m", "uvicorn", "webapp.asgi:application"]
    return uvicorn_cli.make_context("uvicorn", command[3:]).params


def test_the_command_line_believes_no_forwarded_headers_by_default(settings):
    settings.GAITU_TRUSTED_PROXIES = []
    command = web_server_command("/venv/python", "127.0.0.1", 8000)
    options = uvicorn_options(command)
    assert options["proxy_headers"] is False  # uvicorn's default believes 127.0.0.1
    assert "--forwarded-allow-ips" not in command


def test_the_command_line_names_the_trusted_proxies(settings):
    settings.GAITU_TRUSTED_PROXIES = ["10.0.0.0/8"]
    options = uvicorn_options(web_server_command("/venv/python", "127.0.0.1", 8000))
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.0/8,::ffff:10.0.0.0/104"


def test_the_command_line_runs_the_guarded_protocol_with_the_configured_times(settings):
    settings.GAITU_KEEP_ALIVE_TIMEOUT = 2.5
    options = uvicorn_options(web_server_command("/venv/python", "::", 8123))
    assert import_from_string(options["http"]) is GuardedHttpProtocol
    assert options["ws"] == "none"
    assert (options["host"], options["port"]) == ("::", 8123)
    assert options["timeout_keep_alive"] == 3  # uvicorn counts whole seconds
    assert options["timeout_graceful_shutdown"] == 5
    soft_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert options["limit_concurrency"] == overall_connection_cap(soft_limit)


def test_one_web_process_is_uvicorn_alone_and_more_are_its_workers(settings):
    """GAITU_WEB_PROCESSES: uvicorn's own processes on one socket (tests/e2e/
    test_web_processes.py runs two); one is uvicorn alone, with no process to watch it."""
    settings.GAITU_WEB_PROCESSES = 1
    command = web_server_command("/venv/python", "127.0.0.1", 8000)
    assert "--workers" not in command
    assert uvicorn_options(command)["workers"] is None
    settings.GAITU_WEB_PROCESSES = 3
    options = uvicorn_options(web_server_command("/venv/python", "127.0.0.1", 8000))
    assert options["workers"] == 3
    assert import_from_string(options["http"]) is GuardedHttpProtocol  # in each of them


# --- The system checks -----------------------------------------------------------------------


def check_ids(settings) -> list[str]:
    return [message.id for message in check_trusted_proxies(None) + check_server_timeouts(None)]


def test_the_defaults_pass_the_checks(settings):
    assert check_ids(settings) == []


def test_a_trusted_proxy_that_is_not_an_address_is_an_error(settings):
    settings.GAITU_TRUSTED_PROXIES = ["127.0.0.1", "nginx"]
    (error,) = check_trusted_proxies(None)
    assert error.id == "gaitu.E001"
    assert "'nginx' is not an IP address or network" in error.msg


@pytest.mark.parametrize("redirect", [True, False])
def test_https_without_a_trusted_proxy_is_a_warning(settings, redirect):
    settings.GAITU_HTTPS = True
    settings.GAITU_SSL_REDIRECT = redirect
    settings.GAITU_TRUSTED_PROXIES = []
    (warning,) = check_trusted_proxies(None)
    assert warning.id == "gaitu.W001"
    assert ("redirected to https:// again, forever" in warning.msg) is redirect
    settings.GAITU_TRUSTED_PROXIES = ["127.0.0.1"]
    assert check_trusted_proxies(None) == []


@pytest.mark.parametrize("value", [0.0, -1.0, float("inf"), float("nan")])
def test_a_timeout_must_be_some_seconds(settings, value):
    settings.GAITU_BODY_TIMEOUT = value
    (error,) = check_server_timeouts(None)
    assert error.id == "gaitu.E002"
    assert error.msg.startswith("GAITU_BODY_TIMEOUT must be a number of seconds above 0")


def test_serve_does_not_start_with_a_bad_trusted_proxy(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "GAITU_DATA_DIR": str(tmp_path),
        "GAITU_TRUSTED_PROXIES": "127.0.0.1, proxy.example",
        "PORT": "1",  # nothing may listen: the check stops it first
    }
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        _out, err = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
    assert serve.returncode != 0
    assert "gaitu.E001" in err
    assert "'proxy.example' is not an IP address or network" in err
