"""The reply parser on the captured gateway replies in tests/replies, whole and streamed.

Each capture is parsed as upstream.py feeds it (SSE events, a JSON body or plain text), then
streamed event by event or dot by dot: the outcome is the same and never goes backwards.
"""

import json

import pytest

from gateway.chat.reply import ReplyAccumulator, describe_image_ref, parse_reply
from gateway.chat.sse import iter_sse_data
from tests.support.reply_samples import CDN, REPLIES, assert_steady, read_reply, stream_text

FIXTURES = [
    # name, images (described), stage, progress, failure code, words in the failure detail
    (
        "f1_stream_zh.sse",
        ["https://filesystem.site/cdn/20260311/8cf3a0d1b7e24f6a9c2e1f0d5b4a3c21.png"],
        "done",
        100,
        None,
        "",
    ),
    (
        "f1_nonstream_zh_n2.json",
        [f"{CDN}/aaa7f3.png", f"{CDN}/bbb9e1.png"],
        "done",
        100,
        None,
        "",
    ),
    (
        "f1_nonstream_en.json",
        [
            "https://filesystem.site/cdn/20260402/file_00000000a4c861f6b6d2e4a4a3f0d9c2.webp",
        ],
        "done",
        100,
        None,
        "",
    ),
    (
        "f1_percent_stream.sse",
        [
            "https://oss.example-cdn.cn/sora/image/2026/03/11/"
            "7d0c9e54-1b7a-4bcb-9f3d-0e8f8a1c2b3d.png?x-oss-process=image%2Fformat%2Cwebp"
        ],
        "done",
        100,
        None,
        "",
    ),
    ("f1_malformed.txt", ["https://pic.example.com/outputs/a1b2c3.png"], "done", 100, None, ""),
    ("f1_video.json", ["https://vcdn.example.com/covers/77e1.jpg"], "done", 100, None, ""),
    ("f2_gemini_stream.sse", ["data:image/png;base64,<77 bytes>"], "done", 100, None, ""),
    ("f2_gemini.json", ["data:image/jpeg;base64,<633 bytes>"], "done", 100, None, ""),
    ("f3_openrouter.json", ["data:image/png;base64,<77 bytes>"], "done", 100, None, ""),
    (
        "f3_openrouter_stream.sse",
        ["data:image/png;base64,<77 bytes>", "data:image/png;base64,<77 bytes>"],
        "done",
        100,
        None,
        "",
    ),
    (
        "f4_parts.json",
        ["https://storage.example.ai/outputs/2026/03/11/sunset-4f1a.png?token=ab12"],
        "done",
        100,
        None,
        "",
    ),
    (
        "f5_bare.txt",
        ["https://img.example-gw.com/files/2026/03/11/out_7f9a.jpeg?expires=1741700000"],
        "done",
        100,
        None,
        "",
    ),
    ("f5_bare_data.txt", ["data:image/png;base64,<77 bytes>"], "done", 100, None, ""),
    ("refusal_zh.json", [], "queued", None, "refused", "抱歉，我无法帮助生成涉及真实公众人物"),
    ("refusal_en.json", [], None, None, "refused", "I'm sorry, but I can't help"),
    ("moderation.txt", [], "generating", 11, "content_filtered", "失败原因：input_moderation"),
    ("content_filter.json", [], None, None, "content_filtered", ""),
    ("empty_completion.json", [], None, None, "refused", "completion_tokens: 0"),
    (
        "openrouter_inband_error.json",
        [],
        None,
        None,
        "upstream_error",
        "Provider returned error: upstream connect error",
    ),
    ("stream_error.sse", [], "queued", None, "rate_limited", "当前分组上游负载已饱和"),
    ("length_cut.json", [], None, None, "interrupted", ""),
]


FINER_REASONS = {"length_cut.json": "cut_off", "empty_completion.json": "empty"}


@pytest.mark.parametrize(("name", "images", "stage", "progress", "code", "words"), FIXTURES)
def test_captured_replies(name, images, stage, progress, code, words):
    reply = read_reply(name).result()
    assert [describe_image_ref(ref) for ref in reply.images] == images
    assert (reply.stage, reply.progress) == (stage, progress)
    assert (reply.failure and reply.failure.code) == code
    if code:
        assert words in reply.failure.detail
        # A finer reason, where the app says something more precise than the code's sentence.
        assert reply.failure.reason == FINER_REASONS.get(name, "")


@pytest.mark.parametrize("name", [name for name, *_ in FIXTURES if name.endswith(".sse")])
def test_captured_streams_are_steady_event_by_event(name):
    accumulator = ReplyAccumulator()
    interim = []
    text = (REPLIES / name).read_text(encoding="utf-8")
    for data in iter_sse_data(text.split("\n")):
        accumulator.feed_chunk(json.loads(data))
        interim.append(accumulator.result(complete=False))
    assert_steady(interim, accumulator.result())


def _text_replies():
    for name, images, _stage, _progress, code, _words in FIXTURES:
        if name.endswith(".txt"):
            yield name, (REPLIES / name).read_text(encoding="utf-8"), images, code
        elif name.endswith(".json"):
            body = json.loads((REPLIES / name).read_text(encoding="utf-8"))
            choice = body["choices"][0]
            content = choice["message"]["content"]
            if isinstance(content, str) and content and choice["finish_reason"] == "stop":
                yield name, content, images, code


@pytest.mark.parametrize(("name", "text", "images", "code"), list(_text_replies()))
def test_text_replies_give_the_same_result_streamed_dot_by_dot(name, text, images, code):
    final, interim = stream_text(text)
    assert [describe_image_ref(ref) for ref in final.images] == images
    assert (final.failure and final.failure.code) == code
    assert final == parse_reply(text, completion_tokens=1)
    assert_steady(interim, final)
