"""Why a reply gave no picture: failures in the reply itself, and HTTP errors of the gateway.

Each becomes one of the failure CODES with the gateway's own words as detail, keys masked and
length bounded.
"""

import json

import pytest

from gateway.chat.errors import classify_http_error
from gateway.chat.reply import ReplyAccumulator, parse_reply
from gateway.failures import CODES
from tests.support.reply_samples import CDN, F1_TRANSCRIPT

# -- failures -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kwargs", "code", "words"),
    [
        ("", {"finish_reason": "content_filter"}, "content_filtered", ""),
        ("", {"finish_reason": "IMAGE_SAFETY"}, "content_filtered", ""),
        ("抱歉", {"finish_reason": "MAX_TOKENS"}, "interrupted", "抱歉"),
        (
            "",
            {"error": {"message": "Provider returned error", "code": 502}},
            "upstream_error",
            "Provider",
        ),
        ("", {"finish_reason": "error"}, "upstream_error", ""),
        (
            "",
            {"error": {"message": "Request blocked by safety settings", "code": 400}},
            "content_filtered",
            "safety",
        ),
        ("", {"error": {"message": "insufficient_user_quota"}}, "quota_exhausted", ""),
        ("", {"error": {"message": "当前分组上游负载已饱和，请稍后再试"}}, "rate_limited", "饱和"),
        (
            "> 生成失败 ❌\n> 失败原因：output_moderation",
            {},
            "content_filtered",
            "output_moderation",
        ),
        ("生成失败 ❌ 失败原因：input_moderation", {}, "content_filtered", "input_moderation"),
        ("生成失败，失败原因：上游负载已饱和", {}, "rate_limited", "上游负载已饱和"),
        (
            "Your request was rejected because it may violate our content policy.",
            {},
            "content_filtered",
            "violate",
        ),
        ("I can't help with that request.", {}, "refused", "I can't help with that request."),
        ("", {"completion_tokens": 0}, "refused", "completion_tokens: 0"),
        (">🕐 排队中...\n>⚡ 生成中...", {}, "refused", ""),
        ("Your key sk-abcdefghijklmnop0123 is wrong", {}, "refused", "sk-***"),
    ],
)
def test_failures(text, kwargs, code, words):
    failure = parse_reply(text, **kwargs).failure
    assert failure.code == code
    assert failure.code in CODES
    assert words in failure.detail
    assert "abcdefghijklmnop" not in failure.detail


def test_images_outweigh_any_complaint():
    text = f"生成失败？不，这次成功了\n![image]({CDN}/a.png)"
    reply = parse_reply(text, error={"message": "late error"}, finish_reason="error")
    assert reply.images == [f"{CDN}/a.png"]
    assert reply.failure is None


def test_no_refusal_while_the_stream_is_running():
    assert parse_reply("抱歉", complete=False).failure is None
    assert parse_reply("", complete=False).failure is None


def test_refusal_words_leave_out_the_transcript():
    text = F1_TRANSCRIPT.format(images="抱歉，这张图片无法编辑。")
    detail = parse_reply(text).failure.detail
    assert detail == "抱歉，这张图片无法编辑。"


def test_long_words_are_cut():
    detail = parse_reply("抱歉" * 2000).failure.detail
    assert len(detail) <= 500
    assert detail.endswith("…")


def test_structured_refusal_is_the_models_words():
    accumulator = ReplyAccumulator()
    accumulator.feed_completion(
        {"choices": [{"message": {"content": None, "refusal": "I can't edit that photo."}}]}
    )
    reply = accumulator.result()
    assert reply.failure.code == "refused"
    assert reply.failure.detail == "I can't edit that photo."


# -- HTTP errors --------------------------------------------------------------------------


def error_body(message: str, code: object = None, error_type: str = "new_api_error") -> str:
    error = {"message": message, "type": error_type, "param": "", "code": code}
    return json.dumps({"error": error}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "code", "detail"),
    [
        (
            401,
            error_body("无效的令牌 (request id: 2026031116)"),
            "application/json",
            "key_rejected",
            "无效的令牌",
        ),
        (403, error_body("Forbidden"), "application/json", "key_rejected", "Forbidden"),
        (
            401,
            error_body("Incorrect API key provided: sk-proj-abcdefgh1234", "invalid_api_key"),
            "application/json",
            "key_rejected",
            "sk-***",
        ),
        (
            402,
            '{"error": {"message": "Insufficient credits", "code": 402}}',
            "",
            "quota_exhausted",
            "Insufficient credits",
        ),
        (
            403,
            error_body("用户额度不足, 剩余额度: ＄0.01", "insufficient_user_quota"),
            "",
            "quota_exhausted",
            "额度不足",
        ),
        (
            429,
            error_body("You exceeded your current quota", "insufficient_quota"),
            "",
            "quota_exhausted",
            "quota",
        ),
        (
            429,
            error_body("当前分组上游负载已饱和，请稍后再试 (request id: 1)"),
            "",
            "rate_limited",
            "饱和",
        ),
        (500, error_body("当前分组上游负载已饱和，请稍后再试"), "", "rate_limited", "饱和"),
        (429, "Too Many Requests", "text/plain", "rate_limited", "Too Many Requests"),
        (
            503,
            error_body(
                "分组 default 下模型 gpt-4o-image 无可用渠道（distributor）", "model_not_found"
            ),
            "",
            "model_unavailable",
            "无可用渠道",
        ),
        (
            503,
            error_body("No available channel for model gpt-image-1 under group vip"),
            "",
            "model_unavailable",
            "channel",
        ),
        (
            404,
            error_body(
                "The model `gpt-5-image` does not exist", "model_not_found", "invalid_request_error"
            ),
            "",
            "model_unavailable",
            "does not exist",
        ),
        (
            400,
            error_body("Invalid image: too large", "invalid_image", "invalid_request_error"),
            "",
            "bad_request",
            "too large",
        ),
        (
            400,
            error_body("Your request was rejected as a result of our safety system"),
            "",
            "content_filtered",
            "safety system",
        ),
        (413, "", "", "bad_request", "HTTP 413"),
        (
            422,
            '{"detail": [{"loc": ["body", "model"], "msg": "field required"}]}',
            "",
            "bad_request",
            "field required",
        ),
        (
            500,
            error_body("upstream error: do request failed"),
            "",
            "gateway_error",
            "do request failed",
        ),
        (503, '{"message": "Service Unavailable"}', "", "gateway_error", "Service Unavailable"),
        (
            502,
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "text/html",
            "gateway_error",
            "502 Bad Gateway",
        ),
        (
            504,
            "<!DOCTYPE html><html><body><h1>Gateway Time-out</h1></body></html>",
            "",
            "gateway_error",
            "Gateway Time-out",
        ),
        (
            403,
            "<html><title>Attention Required! | Cloudflare</title></html>",
            "text/html",
            "gateway_error",
            "Cloudflare",
        ),
        (
            502,
            "upstream connect error or disconnect/reset before headers",
            "",
            "gateway_error",
            "upstream connect",
        ),
        (502, "{not json", "application/json", "gateway_error", "{not json"),
        (409, error_body("conflict"), "", "gateway_error", "conflict"),
        (0, error_body("upstream model crashed", 500), "", "upstream_error", "crashed"),
        (200, error_body("bad response from upstream"), "", "upstream_error", "bad response"),
        (200, "Welcome to nginx!", "text/plain", "gateway_error", "Welcome to nginx!"),
        (
            429,
            '[{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", '
            '"message": "Resource has been exhausted (e.g. check quota)."}}]',
            "",
            "quota_exhausted",
            "Resource has been exhausted",
        ),
    ],
)
def test_classify_http_error(status, body, content_type, code, detail):
    failure = classify_http_error(status, body, content_type)
    assert failure.code == code
    assert detail in failure.detail
    assert len(failure.detail) <= 500


def test_http_error_detail_is_bounded():
    failure = classify_http_error(500, error_body("x" * 5000))
    assert len(failure.detail) <= 500
