"""Reply dialects seen since the first round, of failing (upstream-formats.md): more error
envelopes named content_filtered, errors inside a 200 stream, and the picture made, billed and
lost; what the chat client makes of each over a real socket (raised or returned, its HTTP
status, whether output had started). The other dialects are in test_reply_dialects.py.
"""

import json

import pytest

from gateway.chat.client import request_edit
from gateway.chat.errors import classify_http_error
from gateway.chat.reply import (
    PICTURE_TOKENS,
    parse_reply,
)
from gateway.failures import GatewayFailure
from gateway.fallback import moves_on
from tests.support.reply_samples import (
    PNG_URI,
    stream_text,
)
from tests.support.scripted_gateway import Scripted, ScriptedGateway, delta, sse
from tests.unit.gateway.test_reply_dialects import (
    PAYLOAD,
    accumulated,
    gateway,
    scripted_sample,
    whole,
)

# -- 4. error envelopes named content_filtered ---------------------------------------------


NEUTRAL = "request rejected"  # so that the code decides, not words in the message


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            {"message": NEUTRAL, "code": "sensitive_words_detected", "type": "new_api_error"},
            id="new-api-keywords",
        ),
        pytest.param(
            {
                "message": NEUTRAL,
                "type": "image_generation_user_error",
                "code": "moderation_blocked",
                "safety_violations": ["violence"],
            },
            id="moderation-blocked",
        ),
        pytest.param(
            {"message": NEUTRAL, "type": "image_generation_user_error", "safety_violations": ["x"]},
            id="safety-violations-alone",
        ),
        pytest.param(
            {
                "message": NEUTRAL,
                "code": "data_inspection_failed",
                "type": "data_inspection_failed",
            },
            id="dashscope",
        ),
        pytest.param({"message": NEUTRAL, "code": "1301"}, id="zhipu-string"),
        pytest.param({"message": NEUTRAL, "code": 1301}, id="zhipu-number"),
        pytest.param(
            {
                "message": "image generation failed: finishReason IMAGE_SAFETY",
                "type": "channel_error",
                "code": "channel:image_generation_failed",
            },
            id="channel-error",
        ),
        pytest.param(
            {
                "message": NEUTRAL,
                "code": "invalid_request",
                "innererror": {"code": "ResponsibleAIPolicyViolation"},
            },
            id="azure-innererror-code",
        ),
        pytest.param(
            {
                "message": NEUTRAL,
                "innererror": {"content_filter_result": {"sexual": {"filtered": True}}},
            },
            id="azure-filter-result",
        ),
    ],
)
def test_error_envelopes_named_content_filtered(error):
    body = json.dumps({"error": error, "id": "chatcmpl-1", "request_id": "r-1"})
    for status in (400, 403, 422, 500):
        assert classify_http_error(status, body, "application/json").code == "content_filtered"
    assert classify_http_error(200, body).code == "content_filtered"
    assert parse_reply("", error=error).failure.code == "content_filtered"
    in_band = accumulated({"error": error, "id": "chatcmpl-1", "request_id": "r-1"})
    assert in_band.result().failure.code == "content_filtered"


@pytest.mark.parametrize(
    "error",
    [
        {"message": "model busy", "code": "13010"},
        {"message": "Request id 1301 failed", "code": "internal"},
        {"message": "bad image", "innererror": {"code": "InvalidImage"}},
    ],
)
def test_other_codes_are_not_moderation(error):
    assert classify_http_error(400, json.dumps({"error": error})).code == "bad_request"


# -- 5. errors inside a 200 stream ---------------------------------------------------------


def test_a_top_level_error_event_before_output_is_a_gateway_error_that_may_move_on():
    error = {"error": {"message": "upstream request failed", "status_code": 500}}
    with ScriptedGateway(Scripted(pieces=sse(": keep-alive", error))) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url), PAYLOAD)
    problem = caught.value
    assert (problem.failure.code, problem.status, problem.output_started) == (
        "gateway_error",
        0,
        False,
    )
    assert not problem.retryable  # as an HTTP 500 is not
    assert moves_on(problem)
    assert "upstream request failed" in problem.raw_text  # the error object is kept


def test_a_relay_status_that_is_transient_is_retried():
    error = {"error": {"message": "no channel answered", "status_code": 503}}
    with ScriptedGateway(Scripted(pieces=sse(error, "data: [DONE]"))) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url), PAYLOAD)
    assert (caught.value.failure.code, caught.value.retryable) == ("gateway_error", True)


def test_an_error_after_output_has_started_stays_with_this_provider():
    events = sse(
        delta("> 🕐 排队中...\n"),
        {"error": {"message": "upstream request failed", "status_code": 500}},
        "data: [DONE]",
    )
    with ScriptedGateway(Scripted(pieces=events)) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url), PAYLOAD)
    problem = caught.value
    assert (problem.failure.code, problem.output_started, problem.retryable) == (
        "gateway_error",
        True,
        False,
    )
    assert not moves_on(problem)
    assert "排队中" in problem.raw_text


def test_openrouters_error_chunk_without_done():
    chunk = {
        "error": {"code": "server_error", "message": "Provider disconnected"},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }
    with ScriptedGateway(Scripted(pieces=sse(": OPENROUTER PROCESSING", chunk))) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url), PAYLOAD)
    assert caught.value.failure.code == "upstream_error"
    assert caught.value.failure.detail == "Provider disconnected"
    assert not caught.value.output_started


def test_finish_reason_error_after_words_is_raised_as_started():
    events = sse(
        delta("正在处理"), {"choices": [{"index": 0, "delta": {}, "finish_reason": "error"}]}
    )
    with ScriptedGateway(Scripted(pieces=events)) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url), PAYLOAD)
    assert (caught.value.failure.code, caught.value.output_started) == ("upstream_error", True)


def test_an_error_in_band_is_rate_limited_by_its_words_and_retried_before_output():
    error = {"error": {"message": "当前分组上游负载已饱和，请稍后再试", "code": "upstream_error"}}
    with ScriptedGateway(
        Scripted(content_type="application/json", pieces=[json.dumps(error).encode()])
    ) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url, stream=False), PAYLOAD)
    assert (caught.value.failure.code, caught.value.retryable) == ("rate_limited", True)
    assert (caught.value.status, caught.value.output_started) == (0, False)


def test_images_outweigh_an_error_in_the_stream():
    events = sse(delta(f"![image]({PNG_URI})"), {"error": {"message": "late", "status_code": 500}})
    with ScriptedGateway(Scripted(pieces=events)) as server:
        outcome = request_edit(gateway(server.url), PAYLOAD)
    assert outcome.reply.images == [PNG_URI]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ({"message": "boom", "status_code": 500}, "gateway_error"),
        ({"message": "boom", "status_code": 429}, "rate_limited"),
        ({"message": "boom", "code": "server_error"}, "upstream_error"),
        ({"message": "boom", "code": 500}, "upstream_error"),  # the provider's, via OpenRouter
        ({"message": "boom", "code": 401}, "key_rejected"),
    ],
)
def test_in_band_errors_by_their_code(error, code):
    assert parse_reply("", error=error).failure.code == code


# -- 6. the picture made, billed and lost --------------------------------------------------


@pytest.mark.parametrize(
    ("message", "usage", "code"),
    [
        ({"role": "assistant"}, {"completion_tokens": PICTURE_TOKENS}, "picture_lost"),
        ({"content": None}, {"completion_tokens": 1290}, "picture_lost"),
        ({"content": ""}, {"completion_tokens": 4160}, "picture_lost"),
        ({"content": None}, {"completion_tokens": PICTURE_TOKENS - 1}, "refused"),
        ({"content": None}, {"completion_tokens": 0}, "refused"),
        (
            {"content": None},
            {"completion_tokens": 1500, "completion_tokens_details": {"reasoning_tokens": 1200}},
            "refused",
        ),
        (
            {"content": None, "reasoning_content": "思考" * 800},
            {"completion_tokens": 1500},
            "refused",
        ),
        ({"content": "I can't help with that."}, {"completion_tokens": 1290}, "refused"),
        (
            {"content": None, "refusal": "I can't edit that photo."},
            {"completion_tokens": 2000},
            "refused",
        ),
    ],
)
def test_a_silent_reply_that_spent_a_pictures_tokens(message, usage, code):
    failure = whole(message, usage=usage).result().failure
    assert failure.code == code


@pytest.mark.parametrize(
    "words",
    [
        "好的，正在为您生成…",
        "好的！马上为您绘制一张蓝天白云的图片。",
        "正在为您生成图片，请稍候",
        "这是为您修改后的图片：",
        "Sure, generating your image…",
        "Okay! Creating that for you now.",
        "I'll create a picture with a blue sky.",
        "I will edit the photo now.",
        "Here's your edited image:",
        "Generating your picture now, one moment!",
    ],
)
def test_words_that_agree_to_draw_then_nothing_are_a_lost_picture(words):
    final, interim = stream_text(words)
    assert (final.failure.code, final.failure.detail) == ("picture_lost", words)
    assert all(reply.failure is None for reply in interim)


@pytest.mark.parametrize(
    "words",
    [
        "I can't help with that.",
        "Sorry, I'm unable to create images of real people.",
        "抱歉，我无法生成这张图片。",
        "好的！请问您想生成什么风格的图片？",
        "Sure — what would you like me to draw?",
        "I'll need a clearer photo first.",
        "好的，我理解您想生成这张图，但是这可能不合适。",
        "Sure, I can edit photos, but not this one.",
        "I'll create " + "a wonderful scene with mountains and lakes, " * 10,
    ],
)
def test_refusals_and_questions_stay_the_models_answer(words):
    assert parse_reply(words).failure.code == "refused"


def test_a_lost_picture_is_returned_as_the_replys_failure():
    with ScriptedGateway(scripted_sample("lost_agreed_zh.sse")) as server:
        outcome = request_edit(gateway(server.url), PAYLOAD)
    assert outcome.reply.failure.code == "picture_lost"
    assert outcome.reply.images == []
