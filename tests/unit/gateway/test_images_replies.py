"""Recorded images API replies (tests/support/replies/images), replayed through a real socket.

Each file is the shape OpenAI or a relay in front of it answers with; its name's ending says how
it is served: .json as application/json, .sse as text/event-stream, .html as a proxy's page.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.config import GatewayConfig
from gateway.failures import GatewayFailure
from gateway.images.client import ImagesTransport
from gateway.transport import ImageRequest, Outcome, Picture
from tests.support.reply_samples import PNG
from tests.support.scripted_gateway import Scripted, ScriptedGateway

REPLIES = Path(__file__).parents[2] / "support" / "replies" / "images"
CONTENT_TYPES = {
    ".json": "application/json",
    ".sse": "text/event-stream",
    ".html": "text/html; charset=utf-8",
}
KEY = "sk-replay-0123456789abcdef"
EDIT = ImageRequest("gpt-image-1", "make the sky blue", [Picture(b"\x89PNG picture", "image/png")])


@dataclass(frozen=True)
class Expected:
    status: int = 200
    images: tuple[str, ...] = ()  # each result's start: a data URI's type, or the link
    usage_output: int | None = None  # usage.output_tokens kept
    reply_failure: str = ""  # the failure code of a reply that came back
    raised: str = ""  # the failure code of a GatewayFailure
    retryable: bool = False


def png(kind: str = "png") -> str:
    signature = {"png": PNG[:12], "jpeg": "/9j/", "webp": "UklGR"}[kind]
    return f"data:image/{kind};base64,{signature}"


EXPECTED = {
    "edit_b64.json": Expected(images=(png(),), usage_output=4160),
    "edit_b64_n2_webp.json": Expected(images=(png("webp"), png("webp")), usage_output=3104),
    "generation_urls.json": Expected(
        images=("https://oaidalleapiprodscus.blob.core.windows.net/private/org-abc/",)
    ),
    "seedream_urls.json": Expected(
        images=(
            "https://ark-content-generation-v2-cn-beijing.tos-cn-beijing.volces.com/"
            "doubao-seedream-4-0/0217646393-1.jpeg?",
            "https://ark-content-generation-v2-cn-beijing.tos-cn-beijing.volces.com/"
            "doubao-seedream-4-0/0217646393-2.jpeg?",
        ),
        usage_output=32768,
    ),
    "edit_stream.sse": Expected(images=(png(),), usage_output=4260),
    "generation_stream_relay.sse": Expected(images=(png("jpeg"),), usage_output=1632),
    "stream_error.sse": Expected(reply_failure="upstream_error"),
    "stream_moderation.sse": Expected(reply_failure="content_filtered"),
    "empty_200.json": Expected(reply_failure="refused"),
    "lost_picture_200.json": Expected(reply_failure="picture_lost", usage_output=4160),
    "inband_error_200_new_api.json": Expected(raised="content_filtered"),
    "error_400_moderation_blocked.json": Expected(400, raised="content_filtered"),
    "error_400_sensitive_words_new_api.json": Expected(400, raised="content_filtered"),
    "error_400_input_fidelity.json": Expected(400, raised="bad_request"),
    "error_401_invalid_key.json": Expected(401, raised="key_rejected"),
    "error_429_saturated_new_api.json": Expected(429, raised="rate_limited", retryable=True),
    "error_500_upstream.json": Expected(500, raised="gateway_error"),
    "error_503_no_channel_new_api.json": Expected(503, raised="model_unavailable", retryable=True),
    "error_504_gateway.html": Expected(504, raised="gateway_error", retryable=True),
}


def replay(name: str, status: int) -> tuple[Outcome | None, GatewayFailure | None]:
    path = REPLIES / name
    script = Scripted(status, CONTENT_TYPES[path.suffix], [path.read_bytes()])
    with ScriptedGateway(script) as server:
        gateway = GatewayConfig(server.url, KEY, transport="images", read_timeout=5.0)
        try:
            return ImagesTransport(gateway).send(EDIT), None
        except GatewayFailure as exc:
            return None, exc


def test_every_recorded_reply_is_replayed():
    assert sorted(path.name for path in REPLIES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_recorded_reply_reads_as_expected(name):
    expected = EXPECTED[name]
    outcome, failed = replay(name, expected.status)
    if expected.raised:
        assert outcome is None and failed is not None
        assert failed.failure.code == expected.raised
        assert failed.failure.detail  # the gateway's own words, or the page's title
        assert failed.status == (expected.status if expected.status >= 400 else 0)
        assert failed.retryable is expected.retryable
        assert failed.output_started is False
        return
    assert failed is None and outcome is not None
    assert len(outcome.reply.images) == len(expected.images)
    for image, start in zip(outcome.reply.images, expected.images, strict=True):
        assert image.startswith(start)
    failure = outcome.reply.failure
    assert (failure.code if failure else "") == expected.reply_failure
    assert outcome.usage.get("output_tokens") == expected.usage_output
    for image in outcome.reply.images:  # pictures are elided from the record, links kept
        if image.startswith("data:"):
            assert image.partition(",")[2] not in outcome.raw_text
        else:
            assert image in outcome.raw_text.replace("\\/", "/")
    assert len(outcome.raw_text) > 10


def test_a_moderation_block_keeps_openai_s_words():
    _outcome, failed = replay("error_400_moderation_blocked.json", 400)
    assert failed is not None
    assert failed.failure.detail.startswith("Your request was rejected by the safety system.")
    assert "req_8a1d2c3b4e5f" in failed.failure.detail


def test_new_api_s_words_come_through_with_its_request_id():
    _outcome, failed = replay("error_503_no_channel_new_api.json", 503)
    assert failed is not None
    assert "gpt-image-1 无可用渠道" in failed.failure.detail
    assert "(request id: 20261202012233445566ffeeddccbbaa)" in failed.failure.detail
