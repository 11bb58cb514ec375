"""Recorded Gemini replies (tests/support/replies/gemini), replayed through the transport.

Each is a reply of the shape Gemini or a relay in front of it sends; the table says what the
transport must make of it: the pictures it finds, or the failure it names.
"""

import pytest

from gateway.config import GatewayConfig
from gateway.failures import GatewayFailure
from gateway.gemini.client import GeminiTransport
from gateway.transport import ImageRequest
from tests.support.gemini_gateway import REPLIES, GeminiGateway, recorded

KEY = "AIzaSyRecorded-0123456789"
REQUEST = ImageRequest("gemini-2.5-flash-image", "make the sky blue")

# name -> (picture kinds found, in order), or the failure code (and reason) it names
PICTURES = {
    "image_nonstream.json": ["data:image/png"],
    "image_stream.sse": ["data:image/png"],
    "relay_snake_case.json": ["data:image/png", "data:image/jpeg"],
    "file_data_link.json": [
        "https://storage.relay.example/gemini/out/7f3a.png?Expires=1796000000&Signature=abc"
    ],
    "thinking_stream.sse": ["data:image/png"],
    "stream_as_array.json": ["data:image/jpeg"],
}
FAILURES = {
    "image_safety.json": ("content_filtered", ""),
    "prompt_blocked.json": ("content_filtered", ""),
    "safety_stream.sse": ("content_filtered", ""),
    "no_image_text.json": ("refused", ""),
    "no_image_reason.json": ("refused", "empty"),
    "picture_lost.json": ("picture_lost", ""),
    "max_tokens.json": ("interrupted", "cut_off"),
}
# name -> (HTTP status it is played with, failure code, retryable)
ERRORS = {
    "error_400_key.json": (400, "key_rejected", False),
    "error_404_model.json": (404, "model_unavailable", False),
    "error_429_quota_day.json": (429, "quota_exhausted", True),
    "error_429_per_minute.json": (429, "rate_limited", True),
    "error_503_overloaded.json": (503, "gateway_error", True),
    "error_relay_openai.json": (503, "model_unavailable", True),
    "error_in_stream.sse": (200, "gateway_error", True),
}


def transport(url: str, name: str) -> GeminiTransport:
    stream = name.endswith(".sse") or name.startswith("stream_")
    return GeminiTransport(GatewayConfig(url, KEY, transport="gemini", stream=stream))


def test_every_recorded_reply_is_replayed():
    assert sorted(path.name for path in REPLIES.iterdir()) == sorted(
        [*PICTURES, *FAILURES, *ERRORS]
    )


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_recorded_pictures_are_found(name):
    with GeminiGateway(recorded(name)) as server:
        outcome = transport(server.url, name).send(REQUEST)
    assert outcome.reply.failure is None
    assert [
        ref.split(";")[0] if ref.startswith("data:") else ref for ref in outcome.reply.images
    ] == (PICTURES[name])
    assert (outcome.reply.stage, outcome.reply.progress) == ("done", 100)
    assert outcome.usage == {} or "totalTokenCount" in outcome.usage
    assert ";base64,iVBOR" not in outcome.raw_text and '"data": "iVBOR' not in outcome.raw_text


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_recorded_failures_are_named(name):
    with GeminiGateway(recorded(name)) as server:
        outcome = transport(server.url, name).send(REQUEST)
    assert outcome.reply.images == []
    problem = outcome.reply.failure
    assert problem is not None
    assert (problem.code, problem.reason) == FAILURES[name]
    assert problem.detail  # the person is told something of what the model or filter said


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_recorded_errors_are_classified(name):
    status, code, retryable = ERRORS[name]
    with GeminiGateway(recorded(name, status=status)) as server:
        with pytest.raises(GatewayFailure) as caught:
            transport(server.url, name).send(REQUEST)
    assert (caught.value.failure.code, caught.value.retryable) == (code, retryable)
    assert caught.value.output_started is False
    assert caught.value.failure.detail


def test_the_recorded_quota_error_says_how_long_to_wait():
    with GeminiGateway(recorded("error_429_per_minute.json", status=429)) as server:
        with pytest.raises(GatewayFailure) as caught:
            transport(server.url, "error_429_per_minute.json").send(REQUEST)
    assert caught.value.retry_after == 7.0
    assert caught.value.status == 429


def test_the_thinking_models_interim_picture_is_not_the_result():
    with GeminiGateway(recorded("thinking_stream.sse")) as server:
        outcome = transport(server.url, "thinking_stream.sse").send(REQUEST)
    events = [line for line in (REPLIES / "thinking_stream.sse").read_text().splitlines() if line]
    interim, final = events[1], events[2]
    assert outcome.reply.images[0].split(",", 1)[1] not in interim
    assert outcome.reply.images[0].split(",", 1)[1] in final
    assert "Planning the sky" in outcome.raw_text  # thoughts are kept in the record only
    assert "Ab3dAb3d" not in outcome.raw_text  # a thought signature is elided like a picture
