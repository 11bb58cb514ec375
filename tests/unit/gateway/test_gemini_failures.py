"""The Gemini transport's failures against a scripted gateway over real local sockets: Google's
error envelope, the relays' own, failures before and after the model began to answer, and the
key kept out of all of them."""

import json

import pytest

from tests.support.gemini_gateway import GeminiGateway, recorded
from tests.support.scripted_gateway import Scripted, sse
from tests.unit.gateway.test_gemini_transport import (
    KEY,
    MODEL,
    PNG_URI,
    QUOTED_KEY,
    failing,
    inline,
    json_reply,
    reply,
    send,
)

# --- errors ---


def google_error(code: int, status: str, message: str, *details: dict) -> dict:
    error: dict = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = list(details)
    return {"error": error}


KEY_INVALID = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
PER_MINUTE = {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}],
}
PER_DAY = {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}],
}
RETRY_IN_7 = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
EXCEEDED = "You exceeded your current quota, please check your plan and billing details."

ERRORS = [
    (400, google_error(400, "INVALID_ARGUMENT", "API key not valid.", KEY_INVALID), "key_rejected"),
    (401, google_error(401, "UNAUTHENTICATED", "Request had invalid credentials."), "key_rejected"),
    (403, google_error(403, "PERMISSION_DENIED", "Permission denied on resource."), "key_rejected"),
    (429, google_error(429, "RESOURCE_EXHAUSTED", EXCEEDED, PER_MINUTE), "rate_limited"),
    (429, google_error(429, "RESOURCE_EXHAUSTED", EXCEEDED, PER_DAY), "quota_exhausted"),
    (
        429,
        google_error(429, "RESOURCE_EXHAUSTED", "Resource exhausted, check quota."),
        "quota_exhausted",
    ),
    (429, google_error(429, "RESOURCE_EXHAUSTED", "Too many requests."), "rate_limited"),
    (
        404,
        google_error(404, "NOT_FOUND", "models/x is not found for API version v1beta"),
        "model_unavailable",
    ),
    (400, google_error(400, "INVALID_ARGUMENT", "Unable to process input image."), "bad_request"),
    (
        400,
        google_error(400, "FAILED_PRECONDITION", "User location is not supported."),
        "bad_request",
    ),
    (
        402,
        google_error(402, "FAILED_PRECONDITION", "Your prepayment credits are depleted."),
        "quota_exhausted",
    ),
    (500, google_error(500, "INTERNAL", "An internal error has occurred."), "gateway_error"),
    (503, google_error(503, "UNAVAILABLE", "The model is overloaded."), "gateway_error"),
    (504, google_error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation."), "timeout"),
    (502, {"error": {"code": 502, "message": "Bad gateway"}}, "gateway_error"),
]


@pytest.mark.parametrize(
    ("status", "body", "code"), ERRORS, ids=[f"{s}-{c}" for s, _b, c in ERRORS]
)
def test_googles_error_envelope_is_classified(status, body, code):
    with GeminiGateway(json_reply(body, status=status)) as server:
        caught = failing(server.url)
    assert caught.failure.code == code
    assert caught.failure.detail == body["error"]["message"]
    assert caught.status == status
    assert caught.retryable == (status in (429, 502, 503, 504))
    assert caught.output_started is False
    assert body["error"]["message"] in caught.raw_text


def test_retry_info_gives_the_wait_and_retry_after_wins_over_it():
    body = google_error(429, "RESOURCE_EXHAUSTED", EXCEEDED, PER_MINUTE, RETRY_IN_7)
    with GeminiGateway(
        json_reply(body, 429), json_reply(body, 429, headers={"Retry-After": "3"})
    ) as server:
        first, second = failing(server.url), failing(server.url)
    assert (first.retry_after, second.retry_after) == (7.0, 3.0)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "code"),
    [
        (503, "error_relay_openai.json", "application/json", "model_unavailable"),
        (
            429,
            {"error": {"message": "当前分组上游负载已饱和，请稍后再试", "type": "new_api_error"}},
            "application/json",
            "rate_limited",
        ),
        (
            401,
            {
                "error": {
                    "message": "无效的令牌",
                    "type": "new_api_error",
                    "code": "invalid_api_key",
                }
            },
            "application/json",
            "key_rejected",
        ),
        (
            502,
            "<html><head><title>502 Bad Gateway</title></head></html>",
            "text/html",
            "gateway_error",
        ),
    ],
    ids=["relay-no-channel", "relay-saturated", "relay-key", "html-page"],
)
def test_other_envelopes_are_read_the_chat_transports_way(status, body, content_type, code):
    if isinstance(body, str) and body.endswith(".json"):
        script = recorded(body, status=status)
    else:
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        script = Scripted(status=status, content_type=content_type, pieces=[text.encode()])
    with GeminiGateway(script) as server:
        caught = failing(server.url)
    assert (caught.failure.code, caught.status) == (code, status)


def test_an_error_before_any_answer_in_a_stream_is_as_good_as_an_error_status():
    with GeminiGateway(recorded("error_in_stream.sse")) as server:
        caught = failing(server.url, stream=True)
    assert (caught.failure.code, caught.status) == ("gateway_error", 503)
    assert caught.retryable is True
    assert caught.output_started is False


def test_an_error_after_the_model_began_in_a_stream_is_output_started():
    events = sse(
        reply({"text": "Drawing"}, finish=None),
        google_error(500, "INTERNAL", "An internal error has occurred."),
    )
    with GeminiGateway(Scripted(pieces=events)) as server:
        caught = failing(server.url, stream=True)
    assert caught.failure.code == "gateway_error"
    assert (caught.output_started, caught.retryable) == (True, False)
    assert "Drawing" in caught.raw_text


def test_a_stream_dropped_mid_reply_is_a_failure_after_output_started():
    events = sse(reply({"text": "Sure, drawing"}, finish=None))
    with GeminiGateway(Scripted(pieces=events, drop=True)) as server:
        caught = failing(server.url, stream=True)
    assert caught.failure.code == "connection_failed"
    assert caught.output_started is True
    assert caught.status == 0


def test_a_stream_dropped_after_the_picture_keeps_it():
    events = sse(reply({"text": "Here."}, finish=None), reply(inline(), finish=None))
    with GeminiGateway(Scripted(pieces=events, drop=True)) as server:
        outcome = send(server.url, stream=True)
    assert outcome.reply.images == [PNG_URI]


def test_a_whole_reply_dropped_halfway_is_output_started():
    body = json.dumps(reply(inline())).encode()
    with GeminiGateway(
        Scripted(content_type="application/json", pieces=[body[:40]], drop=True)
    ) as server:
        caught = failing(server.url)
    assert caught.output_started is True
    assert caught.failure.code == "connection_failed"


def test_silence_from_the_start_is_a_timeout_before_output_worth_retrying():
    with GeminiGateway(Scripted(pieces=[1.5, *sse(reply(inline()))])) as server:
        caught = failing(server.url, stream=True, read_timeout=0.3)
    assert caught.failure.code == "timeout"
    assert (caught.output_started, caught.retryable) == (False, True)


def test_silence_after_the_model_began_is_a_timeout_after_output():
    pieces = [*sse(reply({"text": "Drawing"}, finish=None)), 1.5, *sse(reply(inline()))]
    with GeminiGateway(Scripted(pieces=pieces)) as server:
        caught = failing(server.url, stream=True, read_timeout=0.3)
    assert caught.failure.code == "timeout"
    assert (caught.output_started, caught.retryable) == (True, False)


def test_an_unreachable_gateway_is_a_connection_failure_before_output():
    with GeminiGateway() as server:
        url = server.url
    caught = failing(url)
    assert caught.failure.code == "connection_failed"
    assert (caught.output_started, caught.retryable) == (False, True)


# --- the key ---


@pytest.mark.parametrize("key_in", ["header", "query"])
def test_the_key_is_never_in_a_detail_or_a_record(key_in):
    url_with_key = f"https://generativelanguage.googleapis.com/v1beta/models/{MODEL}:generateContent?key={QUOTED_KEY}"
    echoed = google_error(
        400, "INVALID_ARGUMENT", f"API key {KEY} not valid for {url_with_key}", KEY_INVALID
    )
    words = f"The key {KEY} was used."
    with GeminiGateway(json_reply(echoed, 400), json_reply(reply({"text": words}))) as server:
        caught = failing(server.url, gemini_key_in=key_in)
        refused = send(server.url, gemini_key_in=key_in)
    for text in (
        caught.failure.detail,
        caught.raw_text,
        refused.raw_text,
        refused.reply.failure.detail,
    ):
        assert KEY not in text
        assert QUOTED_KEY not in text
        assert "***" in text
    assert caught.failure.code == "key_rejected"


def test_the_key_is_not_in_a_timeout_or_drop_record():
    words = reply({"text": f"echo {KEY}"}, finish=None)
    with GeminiGateway(Scripted(pieces=sse(words), drop=True)) as server:
        caught = failing(server.url, stream=True, gemini_key_in="query")
    assert KEY not in caught.raw_text and "***" in caught.raw_text
    assert KEY not in caught.failure.detail
