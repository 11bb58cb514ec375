"""Which pictures a gateway reply holds, family by family, whole and streamed.

F1 reseller markdown with its download twins, F5 bare links as a fallback, F2 data URIs, and the
F3/F4 images field and content parts; links that are never a result (task pages, videos,
echoed parameters) are left out.
"""

import base64

import pytest

from gateway.chat.reply import ReplyAccumulator, describe_image_ref, parse_reply
from tests.support.reply_samples import (
    CDN,
    F1_TRANSCRIPT,
    PNG,
    PNG_URI,
    assert_steady,
    delta_chunk,
    only_images,
    stream_text,
)

# -- F1: reseller markdown ----------------------------------------------------------------


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
