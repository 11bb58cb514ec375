"""The reply parser on every family of gateway reply, whole and streamed piece by piece."""

import base64
import itertools
import json
import re
from pathlib import Path

import pytest

from editor.reply import (
    FAILURE_CODES,
    STAGE_RANKS,
    ParsedReply,
    ReplyAccumulator,
    classify_http_error,
    describe_image_ref,
    elide_data_uris,
    iter_sse_data,
    parse_reply,
)

REPLIES = Path(__file__).parent / "replies"
PNG = (  # an 8×8 blue PNG of 77 bytes
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFElEQVR4nGOUq7jDgA0wYRUdtBIA"
    "JIUBgsh9F8MAAAAASUVORK5CYII="
)
PNG_URI = f"data:image/png;base64,{PNG}"
CDN = "https://cdn.example.net/cdn/20260311"


def read_reply(name: str) -> ReplyAccumulator:
    """A captured reply fed the way upstream.py feeds it: SSE events, a JSON body, or text."""
    text = (REPLIES / name).read_text(encoding="utf-8")
    accumulator = ReplyAccumulator()
    if name.endswith(".sse"):
        for data in iter_sse_data(text.split("\n")):
            accumulator.feed_chunk(json.loads(data))
    elif name.endswith(".json"):
        accumulator.feed_completion(json.loads(text))
    else:
        accumulator.feed_chunk({"choices": [{"index": 0, "delta": {"content": text}}]})
        accumulator.feed_chunk({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return accumulator


def pieces(text: str) -> list[str]:
    """Cut text the way resellers stream it: each dot alone, data URIs in many small pieces."""
    cut = []
    for token in re.split(r"(\.)", text):
        cut += [token[i : i + 5] for i in range(0, len(token), 5)]
    return cut


def delta_chunk(delta: dict, finish_reason: str | None = None) -> dict:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def stream_text(text: str, finish_reason: str = "stop") -> tuple[ParsedReply, list[ParsedReply]]:
    """Stream the text in tiny chunks; returns the final result and every result on the way."""
    accumulator = ReplyAccumulator()
    interim = []
    for piece in pieces(text):
        accumulator.feed_chunk(delta_chunk({"content": piece}))
        interim.append(accumulator.result(complete=False))
    accumulator.feed_chunk(delta_chunk({}, finish_reason))
    accumulator.feed_chunk({"choices": [], "usage": {"completion_tokens": 1 + len(text) // 4}})
    return accumulator.result(), interim


def assert_steady(interim: list[ParsedReply], final: ParsedReply) -> None:
    """A running stream never goes backwards, never gives up early, never shows a bad image."""
    for before, after in itertools.pairwise(interim):
        assert (after.progress or 0) >= (before.progress or 0)
        assert STAGE_RANKS.get(after.stage, 0) >= STAGE_RANKS.get(before.stage, 0)
    for reply in interim:
        assert reply.images == final.images[: len(reply.images)]
        assert reply.failure is None or reply.failure.code != "refused"


def only_images(text: str, **kwargs) -> list[str]:
    return parse_reply(text, **kwargs).images


# -- captured replies ---------------------------------------------------------------------

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


@pytest.mark.parametrize(("name", "images", "stage", "progress", "code", "words"), FIXTURES)
def test_captured_replies(name, images, stage, progress, code, words):
    reply = read_reply(name).result()
    assert [describe_image_ref(ref) for ref in reply.images] == images
    assert (reply.stage, reply.progress) == (stage, progress)
    assert (reply.failure and reply.failure.code) == code
    if code:
        assert words in reply.failure.detail
        assert reply.failure.message


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


# -- F1: reseller markdown ----------------------------------------------------------------

F1_TRANSCRIPT = """```json
{{"prompt": "把背景换成蓝天白云 https://example.com/ref.png", "ratio": "1:1", "n": 2}}
```
> ID: `task_abc123`
>[数据预览](https://tasks.example/web/task_abc123) | [原始数据](https://tasks.example/source/task_abc123)
>🕐 排队中...
>⚡ 生成中....
>🏃 进度 12..31..58..[100](https://assets.example/raw/src_0.png?se=2026-03-12&sig=x)
> ✅ 生成完成
{images}"""


@pytest.mark.parametrize(
    ("images_markdown", "expected"),
    [
        pytest.param(
            f"![gen_01aaa]({CDN}/aaa.png)\n[点击下载](https://cdn.example.net/cdn/download/20260311/aaa.png)",
            [f"{CDN}/aaa.png"],
            id="cdn-download-twin",
        ),
        pytest.param(
            f"![gen_01aaa]({CDN}/aaa.png)\n[点击下载]({CDN}/aaa.png)",
            [f"{CDN}/aaa.png"],
            id="identical-twin",
        ),
        pytest.param(
            f"![file_0001]({CDN}/aaa.png)\n[Click to download](https://dl.other.example/f/aaa.png?t=1)",
            [f"{CDN}/aaa.png"],
            id="twin-on-another-host",
        ),
        pytest.param(
            f"![gen_01aaa]({CDN}/aaa.png)\n[点击下载](https://cdn.example.net/cdn/download/20260311/aaa.png)\n"
            f"![gen_01bbb]({CDN}/bbb.png)\n[点击下载](https://cdn.example.net/cdn/download/20260311/bbb.png)",
            [f"{CDN}/aaa.png", f"{CDN}/bbb.png"],
            id="two-results-in-order",
        ),
        pytest.param(
            f"![image]({CDN}/ccc.jpg) ![image]({CDN}/aaa.jpg) ![image]({CDN}/bbb.jpg)",
            [f"{CDN}/ccc.jpg", f"{CDN}/aaa.jpg", f"{CDN}/bbb.jpg"],
            id="three-on-one-line",
        ),
        pytest.param(f"![{CDN}/aaa.png]({CDN}/aaa.png)", [f"{CDN}/aaa.png"], id="alt-is-the-url"),
        pytest.param(
            "![image](https://x.example/a.png](https://x.example/a.png)",
            ["https://x.example/a.png"],
            id="doubled-markdown",
        ),
        pytest.param(
            '![image]( <https://x.example/a.png> "result")',
            ["https://x.example/a.png"],
            id="spaces-brackets-title",
        ),
        pytest.param(
            "![image](https://x.example/render/8c1f?sig=a%2Bb&exp=1)",
            ["https://x.example/render/8c1f?sig=a%2Bb&exp=1"],
            id="markdown-image-without-extension",
        ),
        pytest.param("", [], id="no-image-at-all"),
    ],
)
def test_f1_results_and_twins(images_markdown, expected):
    text = F1_TRANSCRIPT.format(images=images_markdown)
    assert only_images(text) == expected
    final, interim = stream_text(text)
    assert final.images == expected
    assert_steady(interim, final)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(F1_TRANSCRIPT.format(images=""), id="progress-link-and-task-links"),
        pytest.param(
            "[数据预览](https://tasks.example/web/t1.png) | [原始数据](https://tasks.example/source/t1.png)",
            id="task-links-even-with-image-names",
        ),
        pytest.param(
            "> [Preview](https://a.example/web/t) [Source](https://a.example/s/t)", id="en"
        ),
        pytest.param("[在线播放▶️](https://v.example/77e1.mp4)", id="video-link"),
        pytest.param("![cover](https://v.example/77e1.mp4)", id="video-as-markdown-image"),
        pytest.param("结果：https://v.example/clips/77e1.webm?x=1", id="bare-video"),
        pytest.param("See [the docs](https://docs.example/guide) for details.", id="plain-link"),
        pytest.param("https://gw.example/v1/files/abc", id="bare-non-image-url"),
        pytest.param(
            '```json\n{"prompt": "like https://ex.example/ref.png", "image": "![a](https://ex.example/b.png)"}\n```\n'
            "抱歉，暂时无法生成。",
            id="fenced-parameter-block",
        ),
        pytest.param(
            '{"prompt": "参考 https://ex.example/ref.png", "ratio": "1:1"}\n抱歉，暂时无法生成。',
            id="bare-leading-json",
        ),
        pytest.param(
            ">🏃 进度 12..31..58..[100](https://assets.example/raw/src_0.png?se=1&sig=x)",
            id="progress-link-alone",
        ),
        pytest.param(
            "🏃 12..31..[100](https://assets.example/raw/src_0.png?sig=x)", id="numeric-link"
        ),
        pytest.param("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA...", id="abbreviated-echo"),
        pytest.param("![image](data:image/png;base64,not*base64)", id="bad-base64"),
    ],
)
def test_never_a_result(text):
    reply = parse_reply(text)
    assert reply.images == []
    assert reply.failure is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("结果：https://x.example/out.png。", "https://x.example/out.png"),
        ("See https://x.example/out.png.", "https://x.example/out.png"),
        ("(https://x.example/out.png), done", "https://x.example/out.png"),
        ("**https://x.example/out.png**", "https://x.example/out.png"),
        (
            "链接 https://x.example/a/out.webp?e=1&s=2；有效期一天",
            "https://x.example/a/out.webp?e=1&s=2",
        ),
        ("图片https://x.example/out.JPG生成完毕", "https://x.example/out.JPG"),
        (
            "Done (grayscale): http://127.0.0.1:8765/cdn/Ab_c-9.jpg",
            "http://127.0.0.1:8765/cdn/Ab_c-9.jpg",
        ),
        ("[Click to download](https://x.example/out.gif)", "https://x.example/out.gif"),
    ],
)
def test_f5_bare_links_end_where_the_url_ends(text, expected):
    assert only_images(text) == [expected]


def test_f5_twin_links_are_one_picture():
    text = "https://a.example/out/7f9a.png\n[点击下载](https://dl.example/d/7f9a.png?x=1)"
    assert only_images(text) == ["https://a.example/out/7f9a.png"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("```markdown\n![image](https://x.example/a.png)\n```", ["https://x.example/a.png"]),
        (
            '```json\n{"prompt": "https://e.example/r.png"}```\n![i](https://x.example/o.png)',
            ["https://x.example/o.png"],
        ),
        (
            '```json\n{"prompt": "https://e.example/r.png"}\n\n![i](https://x.example/o.png)',
            ["https://x.example/o.png"],
        ),
        ("[Display image](https://x.example/a.png)", ["https://x.example/a.png"]),
        ("> ✅ 生成完成：https://x.example/a.png", ["https://x.example/a.png"]),
        ('<img src="https://x.example/a.webp" alt="result">', ["https://x.example/a.webp"]),
    ],
)
def test_code_fences_and_odd_links(text, expected):
    assert only_images(text) == expected


def test_f5_is_only_a_fallback():
    text = f"![image]({CDN}/aaa.png)\nalso https://else.example/other.png"
    assert only_images(text) == [f"{CDN}/aaa.png"]


def test_f5_bare_data_uri_inside_sentence():
    assert only_images(f"Result: {PNG_URI} (png)") == [PNG_URI]


# -- F2: data URIs ------------------------------------------------------------------------


def test_f2_data_uri_is_a_result_only_once_terminated():
    text = f"Here you go:\n\n![image]({PNG_URI})"
    assert only_images(text[:-1], complete=False) == []
    assert only_images(text, complete=False) == [PNG_URI]
    final, interim = stream_text(text)
    assert final.images == [PNG_URI]
    assert all(not reply.images for reply in interim[:-1])
    assert interim[-1].images == [PNG_URI]


def test_f2_unterminated_data_uri_at_the_end_of_a_finished_reply_still_counts():
    assert only_images(f"![image]({PNG_URI}") == [PNG_URI]


def test_f2_wrapped_base64_is_joined():
    wrapped = "\n".join(PNG[i : i + 40] for i in range(0, len(PNG), 40))
    assert only_images(f"![image](data:image/png;base64,{wrapped})") == [PNG_URI]


def test_f2_several_megabytes_split_across_many_chunks():
    payload = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(3 * 2**20)).decode()
    text = f"![image](data:image/png;base64,{payload})"
    accumulator = ReplyAccumulator()
    for start in range(0, len(text), 65536):
        accumulator.feed_chunk(delta_chunk({"content": text[start : start + 65536]}))
        if start + 65536 < len(text):
            assert accumulator.result(complete=False).images == []
    reply = accumulator.result()
    assert reply.images == [f"data:image/png;base64,{payload}"]
    assert describe_image_ref(reply.images[0]) == f"data:image/png;base64,<{8 + 3 * 2**20} bytes>"


def test_f2_length_cut_data_uri_is_not_a_result():
    reply = parse_reply(f"![image]({PNG_URI[:100]}", finish_reason="length")
    assert reply.images == []
    assert reply.failure.code == "interrupted"


# -- F3 / F4: images field and content parts ----------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "image_url", "image_url": {"url": PNG_URI}},
        {"type": "image_url", "image_url": PNG_URI},
        {"url": PNG_URI},
        {"type": "output_image", "image_url": PNG_URI},
        {"type": "image", "b64_json": PNG},
        PNG_URI,
    ],
)
def test_f3_images_field_spellings(entry):
    accumulator = ReplyAccumulator()
    body = {"choices": [{"index": 0, "message": {"content": None, "images": [entry]}}]}
    accumulator.feed_completion(body | {"usage": {"completion_tokens": 1299}})
    assert accumulator.result().images == [PNG_URI]


def test_f4_parts_split_into_text_and_images_streamed():
    accumulator = ReplyAccumulator()
    accumulator.feed_chunk(delta_chunk({"content": [{"type": "text", "text": "I made it "}]}))
    accumulator.feed_chunk(delta_chunk({"content": [{"type": "text", "text": "brighter."}]}))
    accumulator.feed_chunk(
        delta_chunk({"content": [{"type": "image_url", "image_url": {"url": f"{CDN}/p.png"}}]})
    )
    accumulator.feed_chunk(delta_chunk({}, "stop"))
    assert accumulator.text == "I made it brighter."
    assert accumulator.result().images == [f"{CDN}/p.png"]


def test_images_field_first_then_markdown_without_duplicates():
    accumulator = ReplyAccumulator()
    accumulator.feed_completion(
        {
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "content": f"![image]({CDN}/md.png)\n![image]({PNG_URI})",
                        "images": [{"type": "image_url", "image_url": {"url": PNG_URI}}],
                    },
                    "finish_reason": "stop",
                }
            ]
        }
    )
    assert accumulator.result().images == [PNG_URI, f"{CDN}/md.png"]


def test_structured_refusal_is_the_models_words():
    accumulator = ReplyAccumulator()
    accumulator.feed_completion(
        {"choices": [{"message": {"content": None, "refusal": "I can't edit that photo."}}]}
    )
    reply = accumulator.result()
    assert reply.failure.code == "refused"
    assert reply.failure.detail == "I can't edit that photo."


# -- progress -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stage", "progress"),
    [
        (">🕐 排队中...", "queued", None),
        ("> ⏳ Queuing.", "queued", None),
        ("Queued, position 3", "queued", None),
        ("> 🕐 任务排队中，前面还有 3 人", "queued", None),
        (">⚡ 生成中....", "generating", None),
        ("> ⚡ Generating....", "generating", None),
        ("> 🏃 进度 **2%**\n> 🏃 进度 **14%**", "generating", 14),
        ("> 进度 14%.", "generating", 14),
        ("> 🏃 Progress 7....13....25", "generating", 25),
        ("进度 36..44..61..", "generating", 61),
        (
            "🏃 进度 12..31..58..[100](https://assets.example/raw/2026/src_0.png?se=2026)",
            "generating",
            100,
        ),
        ("> 进度 12.5%", "generating", 12),
        ("> 进度 5%，预计还需 120 秒", "generating", 5),
        ("> 🎨 Processing...", "generating", None),
        ('```json\n{"prompt": "进度 90%"}```\n> 🕐 排队中', "queued", None),
        ("> 进度 88..\n> 进度 41..", "generating", 88),
        ("> 进度 250%", "generating", 100),
        ("> 🏃 进度 12..81\n> ✅ 生成完成", "done", 100),
        ("> ✅ Generation complete", "done", 100),
        ("> ✅", "done", 100),
        ("> 图片生成中 45%", "generating", 45),
        ('{"prompt": "进度 90%", "n": 4}\n> 🕐 排队中', "queued", None),
        ("> ID: `task_2026031199`\n> 🕐 排队中 2026-03-11", "queued", None),
        ("Generating images of real people is not allowed here, sorry.", None, None),
        ("I made some progress on the sky but could not finish: 80% done", None, None),
        ("抱歉，生成中出现错误，请重试。", None, None),
    ],
)
def test_stage_and_progress(text, stage, progress):
    reply = parse_reply(text, complete=False)
    assert (reply.stage, reply.progress) == (stage, progress)


def test_an_image_means_done():
    reply = parse_reply(f"> 🏃 进度 12..81\n![image]({CDN}/a.png)")
    assert (reply.stage, reply.progress) == ("done", 100)


def test_progress_of_a_dot_by_dot_transcript_never_goes_back():
    text = (
        "> 🕐 排队中...\n> ⚡ 生成中...\n"
        "> 🏃 进度 5..12..19..27..38..46..58..67..75..83..91..\n> ✅ 生成完成\n"
    )
    final, interim = stream_text(text + f"![gen_1]({CDN}/a.png)")
    assert_steady(interim, final)
    seen = [reply.progress for reply in interim if reply.progress is not None]
    assert seen[0] == 5
    assert 91 in seen


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
    assert failure.code in FAILURE_CODES
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
    assert failure.message == FAILURE_CODES[code]


def test_http_error_detail_is_bounded():
    failure = classify_http_error(500, error_body("x" * 5000))
    assert len(failure.detail) <= 500


# -- SSE ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['data: {"a":1}', "", 'data: {"b":2}', ""], ['{"a":1}', '{"b":2}']),
        (['data: {"a":1}\r\n', "\r\n", 'data:{"b":2}\r\n', "\r\n"], ['{"a":1}', '{"b":2}']),
        ([": keep-alive", "", "event: message", "id: 7", "data: x", ""], ["x"]),
        (["data: first", "data: second", "", "data: [DONE]", "", "data: after"], ["first\nsecond"]),
        (["data: tail without blank line"], ["tail without blank line"]),
        (['data: {"a":1}\n\ndata: {"b":2}\n\n'], ['{"a":1}', '{"b":2}']),
        (["data:[DONE]"], []),
        (["retry: 1000", "", "", "data:  two spaces", ""], [" two spaces"]),
    ],
)
def test_iter_sse_data(lines, expected):
    assert list(iter_sse_data(lines)) == expected


def test_accumulator_keeps_finish_usage_and_stream_error():
    accumulator = ReplyAccumulator()
    accumulator.feed_chunk(delta_chunk({"role": "assistant", "content": ""}))
    accumulator.feed_chunk(delta_chunk({"content": "> 🕐 排队中"}))
    accumulator.feed_chunk({"error": {"message": "upstream model crashed", "code": 500}})
    accumulator.feed_chunk({"choices": [], "usage": {"completion_tokens": 0}})
    assert accumulator.text == "> 🕐 排队中"
    assert accumulator.usage == {"completion_tokens": 0}
    assert accumulator.error == {"message": "upstream model crashed", "code": 500}
    reply = accumulator.result()
    assert (reply.stage, reply.failure.code, reply.failure.detail) == (
        "queued",
        "upstream_error",
        "upstream model crashed",
    )


# -- logging helpers ----------------------------------------------------------------------


def test_describe_image_ref():
    assert describe_image_ref(PNG_URI) == "data:image/png;base64,<77 bytes>"
    assert describe_image_ref("data:image/jpeg;base64,AAAA") == "data:image/jpeg;base64,<3 bytes>"
    assert describe_image_ref(f"{CDN}/a.png?x=1") == f"{CDN}/a.png?x=1"


def test_elide_data_uris():
    text = f"![image]({PNG_URI}) and ![b](data:image/webp;base64,AAAAAA==)"
    assert elide_data_uris(text) == (
        "![image](data:image/png;base64,<77 bytes>) and ![b](data:image/webp;base64,<4 bytes>)"
    )
    escaped = '{"url": "' + PNG_URI.replace("/", "\\/") + '"}'  # as PHP gateways write JSON
    assert PNG[:20] not in elide_data_uris(escaped)
