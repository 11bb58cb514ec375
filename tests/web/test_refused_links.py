"""A reply whose result links Gaitu will not fetch: the edit says which links and why.

Through the whole path: the studio, the worker, a gateway on a real local socket answering
with the links, the download guard, the card and the API.
"""

import base64
import html
import json
import logging

import pytest
from django.urls import reverse
from django.utils import translation

from editor.failures import FAILURE_MESSAGES, REASON_MESSAGES, failure_message
from editor.models import Edit
from gateway.failures import LINK_REFUSALS
from tests.support.factories import image_bytes, upload
from tests.support.fetch_servers import PNG, Server, ok, serve
from tests.support.scripted_gateway import Scripted, ScriptedGateway

INLINE_PNG = "data:image/png;base64," + base64.b64encode(PNG).decode()


@pytest.fixture
def answering(settings):
    """Run the studio's edits against a local gateway that answers with `content`."""

    def answering(content: str) -> ScriptedGateway:
        reply = {
            "choices": [{"index": 0, "message": {"content": content}, "finish_reason": "stop"}]
        }
        gateway = ScriptedGateway(
            Scripted(content_type="application/json", pieces=[json.dumps(reply).encode()])
        )
        settings.GAITU_DEMO = False
        settings.GAITU_API_BASE = gateway.url
        settings.GAITU_API_KEY = "sk-test-not-real"
        settings.GAITU_STREAM = False
        return gateway

    return answering


def edit_with(owner_client, run_jobs, gateway: ScriptedGateway) -> Edit:
    with gateway, run_jobs():
        owner_client.post(
            reverse("studio"),
            {"instruction": "sepia", "images": [upload()]},
            HTTP_HX_REQUEST="true",
        )
    return Edit.objects.get()


@pytest.mark.parametrize(
    ("content", "refused", "reason"),
    [
        (
            "Here: ![a](http://[::1]/x.png) and ![b](http://2130706433/y.png)",
            ["http://[::1]/x.png", "http://2130706433/y.png"],
            "loopback_address",
        ),
        (
            "![](http://[::ffff:169.254.169.254]/latest/meta-data/z.png)",
            ["http://[::ffff:169.254.169.254]/latest/meta-data/z.png"],
            "link_local_address",
        ),
        ("Done: ftp://example.com/a.png", ["ftp://example.com/a.png"], "scheme_not_allowed"),
        ("![](javascript:alert(1))", ["javascript:alert(1)"], "scheme_not_allowed"),
        (
            # Links refused by different rules: the code's own sentence, every link named.
            "![](http://[fc00::1]/a.png) ![](file:///etc/passwd)",
            ["http://[fc00::1]/a.png", "file:///etc/passwd"],
            "",
        ),
    ],
)
def test_a_reply_with_only_refused_links_fails_naming_them(
    owner_client, run_jobs, answering, content, refused, reason
):
    edit = edit_with(owner_client, run_jobs, answering(content))
    assert (edit.status, edit.error_code, edit.error_reason) == ("failed", "link_blocked", reason)
    assert edit.results.count() == 0
    for link in refused:
        assert link in edit.error_detail

    card = owner_client.get(reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true").text
    with translation.override("en"):
        sentence = str(failure_message("link_blocked", reason))
    assert html.escape(sentence) in card
    assert (sentence != str(FAILURE_MESSAGES["link_blocked"])) is bool(reason)
    assert 'data-error-code="link_blocked"' in card
    # The same answer again is all Retry could bring: it is not offered.
    assert reverse("edit_retry", args=[edit.pk]) not in card
    assert "The model answered without an image" not in card


def test_the_api_names_the_rule_that_refused_the_link(
    client, owner_client, owner_token, run_jobs, answering
):
    edit = edit_with(owner_client, run_jobs, answering("![](http://0x7f.0.0.1/x.png)"))
    error = client.get(
        reverse("api_edit", args=[edit.pk]), HTTP_AUTHORIZATION=f"Bearer {owner_token}"
    ).json()["error"]
    assert (error["code"], error["reason"]) == ("link_blocked", "loopback_address")
    assert "http://0x7f.0.0.1/x.png" in error["detail"]
    assert "loopback" in error["message"]


def test_refused_links_are_skipped_when_others_give_pictures(
    owner_client, run_jobs, answering, caplog
):
    content = (
        f"![one]({INLINE_PNG})\n"
        "![two](http://[::ffff:127.0.0.1]/x.png)\n"
        "![three](ftp://example.com/a.png)"
    )
    with caplog.at_level(logging.WARNING, logger="worker.run"):
        edit = edit_with(owner_client, run_jobs, answering(content))
    assert (edit.status, edit.error_code) == ("succeeded", "")
    assert [result.source_url for result in edit.results.all()] == [
        f"data:image/png;base64,<{len(PNG)} bytes>"
    ]
    skipped = [record.getMessage() for record in caplog.records if "skipped" in record.getMessage()]
    assert len(skipped) == 2
    assert "http://[::ffff:127.0.0.1]/x.png skipped: address 127.0.0.1 is loopback" in skipped[0]
    assert "ftp://example.com/a.png skipped: scheme 'ftp' not allowed" in skipped[1]


def test_the_gateways_own_host_stays_exempt(owner_client, run_jobs, answering):
    """The gateway is on 127.0.0.1, so its links there are fetched; others there are not."""
    with serve(Server(("127.0.0.1", 0))) as pictures:
        pictures.routes["/ok.png"] = ok(image_bytes(fmt="PNG"))
        content = f"![a]({pictures.url('/ok.png')}) ![b](http://[::1]:{pictures.port}/ok.png)"
        edit = edit_with(owner_client, run_jobs, answering(content))
    assert (edit.status, edit.results.count()) == ("succeeded", 1)
    assert pictures.hits["/ok.png"] == 1  # the [::1] form of the same server was not asked


def test_every_rule_has_a_sentence_of_its_own():
    sentences = {reason for code, reason in REASON_MESSAGES if code == "link_blocked"}
    assert sentences == LINK_REFUSALS
