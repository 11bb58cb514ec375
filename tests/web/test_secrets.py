"""The gateway key never reaches a page, an API answer, a log line, an error or a stored reply.

A real Gaitu talks to the demo gateway as to a remote one, with a canary key; the demo
gateway quotes the key back in its 401 error, as OpenAI's API does. Then everything Gaitu
produced is searched for it."""

import re

import pytest

from tests.support.factories import image_bytes
from tests.support.live import split_gaitu, wait_for_edit

CANARY = "canary-Key-9f3a71c2e8"


@pytest.fixture
def gaitu(tmp_path):
    with split_gaitu(
        tmp_path, remote_gateway=True, GAITU_API_KEY=CANARY, GAITU_DEMO_LATENCY="0.3"
    ) as gaitu:
        yield gaitu


def test_the_key_appears_nowhere(gaitu):
    api = gaitu.api()
    seen = []
    for instruction in ["sepia", "blur [demo:fail=401]", "x [demo:fail=429]", "[demo:refuse]"]:
        response = api.post(
            "/api/v1/edits",
            data={"instruction": instruction},
            files={"image": ("p.jpg", image_bytes(), "image/jpeg")},
        )
        detail = wait_for_edit(api, response.json()["url"], timeout=30)
        seen.append(response.text + str(detail))
    codes = [re.search(r"'code': '(\w+)'", text) for text in seen]
    assert [c.group(1) if c else None for c in codes] == [
        None, "key_rejected", "rate_limited", "refused",
    ]  # fmt: skip
    assert "Incorrect API key provided: ***" in seen[1]  # the gateway did quote it back

    seen.append(api.get("/api/v1/edits").text)
    gaitu.api("viewer")
    browser = gaitu.session("viewer", follow_redirects=True)
    for path in ["/", "/gallery/", "/account/", "/api/v1/openapi.json"]:
        seen.append(browser.get(path).text)
    admin_pages = browser.get("/admin/editor/edit/").text
    seen.append(admin_pages)
    for edit_url in re.findall(r'href="(/admin/editor/edit/[0-9a-f-]{36}/change/)"', admin_pages):
        seen.append(browser.get(edit_url).text)  # the raw replies, error details
    seen.append(gaitu.manage("dumpdata", "editor", "accounts"))
    seen.append(gaitu.output())  # every log line of web, worker and gateway

    everything = "\n".join(seen)
    assert len(everything) > 10_000
    assert CANARY not in everything
