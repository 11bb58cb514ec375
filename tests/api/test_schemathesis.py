"""schemathesis against the OpenAPI document ninja writes: requests generated from it, valid and
not, for every operation, each answer put to all of schemathesis's checks (status documented,
body fits its schema, invalid input refused, valid input taken, no auth no entry, …).

Through Django's WSGI application, in the test database, with a real API token; jobs run when
a request commits, in this process, against the demo gateway. Bounded and derandomized, so a
run is quick and the same every time. For a longer run by hand:

    API_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/api/test_schemathesis.py
"""

import os
from unittest import mock

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.transport.serialization import Binary

from accounts.models import ApiToken
from editor import forms
from editor.models import Edit
from gateway.fetch import FetchError
from tests.support.factories import image_bytes
from webapp.wsgi import application
from webhooks import delivery
from webhooks import forms as webhook_forms
from webhooks.models import Webhook

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "30"))
RAW_TOKEN = "gtu_schemathesis"

# The API's only binary parts are pictures (the document says which, in the upload's
# encoding.contentType), and a valid request carries real ones: schemathesis would otherwise
# send random bytes, PDFs and ZIPs as well, which are rightly refused.
pictures = st.builds(
    lambda size, fmt: Binary(image_bytes(size, fmt)),
    st.tuples(st.integers(1, 64), st.integers(1, 64)),
    st.sampled_from(["JPEG", "PNG", "WEBP", "GIF"]),
)
schemathesis.openapi.format("binary", pictures)

# Read while the tests are collected, before there is a test database: the models the owner's
# providers add to the document's list are asked of the database, so none are here.
with mock.patch("editor.gateways.provider_models", return_value=[]):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@schema.auth()
class Token:
    """The owner's token on every request, except where schemathesis leaves it out on purpose
    (to see a 401)."""

    def get(self, case, context) -> str:
        return RAW_TOKEN

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.hook
def map_case(context, case):
    # A valid-looking `parent` names a result nobody has, which the form refuses (400, field
    # parent) as it should. So valid requests leave it out; edit-again has its own test
    # (test_errors.py), and invalid requests still send it.
    if case.meta and case.meta.generation.mode.is_positive and isinstance(case.body, dict):
        case.body.pop("parent", None)
        # A link's picture would be fetched from the internet, which no test reaches (see
        # no_fetching); links have tests of their own (tests/api/test_modes.py).
        case.body.pop("image_url", None)
        # A mask must fit its picture exactly, which a generated one never does; masks have
        # tests of their own (tests/api/test_masks_api.py).
        case.body.pop("mask", None)
        # JSON Schema's "uri" takes hosts no resolver would (63 zeros, 300 letters), which the
        # webhook's check rightly refuses; valid requests name a host that could be there.
        if case.path.endswith("/webhooks") and "url" in case.body:
            case.body["url"] = "https://hooks.example/gaitu"
    return case


@pytest.fixture(autouse=True)
def no_fetching(monkeypatch):
    """Nothing leaves this machine. A link an invalid request still carries is never fetched:
    it is refused as unreachable. A webhook's address is taken without the DNS lookup that
    checks it, and nothing is delivered to it (tests/webhooks/ test both, on loopback)."""

    def unreachable(url: str, **limits) -> None:
        raise FetchError("download_failed", "no fetching in this test")

    monkeypatch.setattr(forms, "fetch_image", unreachable)
    monkeypatch.setattr(webhook_forms, "check_link", lambda url, **rules: None)
    monkeypatch.setattr(delivery, "post_json", lambda url, body, **options: 204)
    # The examples of an operation share a database, so the token's webhooks pile up past the
    # limit of a few (whose 400 tests/webhooks/ checks).
    monkeypatch.setattr(Webhook, "MAX_PER_TOKEN", 10_000)


@pytest.fixture
def token(owner, settings):
    settings.GAITU_RATE_LIMIT = 0  # hundreds of edits a minute, on purpose
    ApiToken.objects.create(user=owner, prefix=RAW_TOKEN[:12], digest=ApiToken.hash(RAW_TOKEN))


# The database and the token are made once per operation and shared by its examples, on purpose.
fuzzing = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(autouse=True)
def connections_kept_through_requests():
    """The requests go to the WSGI application, not through Django's test client, which would
    keep the test's database connection (and its transaction) from being closed when each
    request ends; so this does what the test client does. (SQLite's in-memory test database
    ignores the close; PostgreSQL's pool would take the connection back mid-test.)"""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@fuzzing
def test_every_operation(case, token, run_jobs):
    with run_jobs():
        case.call_and_validate()


class Workflow(schema.as_state_machine()):
    """Sequences that follow the document's links (create, then read, cancel, retry, share,
    delete…), so that the operations on one edit meet edits that are really there."""

    def call(self, case, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):  # as the run_jobs fixture does
            return super().call(case, **kwargs)

    def teardown(self) -> None:
        # Each sequence starts from no edits, or the lists it reads (and the links it can
        # follow) would depend on the sequences before it.
        Edit.objects.all().delete()


def test_workflows(token):
    Workflow.run(
        settings=settings(fuzzing, max_examples=max(EXAMPLES // 2, 10), stateful_step_count=8)
    )
