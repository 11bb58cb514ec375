"""Reply dialects seen since the first round (upstream-formats.md, "Seen since the first round").

Progress in reasoning_content, images in yet more fields, an echo fence that closes late, more
error envelopes, errors inside a 200 stream, the picture made and lost, keep-alives with words;
and what the chat client makes of each over a real socket (raised or returned, its HTTP status,
whether output had started). The recorded samples are in tests/support/replies/chat.
"""

import base64
import json

import pytest

from gateway.chat import client as chat_client
from gateway.chat.client import request_edit
from gateway.chat.errors import classify_http_error
from gateway.chat.reply import (
    ReplyAccumulator,
    describe_image_ref,
    parse_reply,
)
from gateway.chat.sse import iter_sse_data
from gateway.config import GatewayConfig
from gateway.failures import GatewayFailure
from gateway.fallback import moves_on
from tests.support.reply_samples import (
    PNG,
    PNG_URI,
    REPLIES,
    assert_steady,
    delta_chunk,
    read_reply,
    stream_text,
)
from tests.support.scripted_gateway import Scripted, ScriptedGateway, delta, sse

CHAT = REPLIES / "chat"
PAYLOAD = {"model": "gemini-2.5-flash-image", "messages": []}
TINY = "data:image/png;base64,<77 bytes>"
FLUX = "https://fluxcdn.example-relay.com/outputs/2026/12/02/4e2a9c.png"
STOP = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


def gateway(url: str, **options) -> GatewayConfig:
    return GatewayConfig(url, "sk-test-secret", **{"read_timeout": 5.0, **options})


def accumulated(*chunks: dict) -> ReplyAccumulator:
    accumulator = ReplyAccumulator()
    for chunk in chunks:
        accumulator.feed_chunk(chunk)
    return accumulator


def whole(message: dict, **body) -> ReplyAccumulator:
    accumulator = ReplyAccumulator()
    accumulator.feed_completion({"choices": [{"index": 0, "message": message}], **body})
    return accumulator


# -- the recorded samples -------------------------------------------------------------------

# name: images (described), stage, progress, failure code, words in the failure detail
SAMPLES = {
    "reasoning_progress.sse": ([TINY], "done", 100, None, ""),
    "reasoning_then_failure.sse": ([], "generating", 35, "content_filtered", "IMAGE_SAFETY"),
    "message_image.json": ([TINY], "done", 100, None, ""),
    "delta_image.sse": ([TINY], "done", 100, None, ""),
    "images_index_detail.json": (
        [TINY, "https://img.example-relay.com/o/2026/12/b7.png"],
        "done",
        100,
        None,
        "",
    ),
    "multi_mod_content.json": ([TINY], "done", 100, None, ""),
    "inline_data_snake.json": ([TINY], "done", 100, None, ""),
    "parts_between_text.json": (
        ["https://cdn.example-ai.net/out/2026/12/02/sky-3c1f.png"],
        "done",
        100,
        None,
        "",
    ),
    "unclosed_echo.txt": ([FLUX], "done", 100, None, ""),
    "error_sensitive_words.json": ([], None, None, "content_filtered", "sensitive words"),
    "error_moderation_blocked.json": ([], None, None, "content_filtered", "safety system"),
    "error_dashscope_inspection.json": ([], None, None, "content_filtered", "inappropriate"),
    "error_zhipu_1301.json": ([], None, None, "content_filtered", "不安全或敏感内容"),
    "error_channel_image_safety.json": ([], None, None, "content_filtered", "IMAGE_SAFETY"),
    "error_azure_innererror.json": ([], None, None, "content_filtered", "content management"),
    "stream_status_500.sse": ([], None, None, "gateway_error", "unexpected EOF"),
    "openrouter_error_chunk.sse": ([], None, None, "upstream_error", "Provider disconnected"),
    "lost_no_content.json": ([], None, None, "picture_lost", "completion_tokens: 1290"),
    "lost_null_content.json": ([], None, None, "picture_lost", "completion_tokens: 1295"),
    "lost_agreed_zh.sse": ([], None, None, "picture_lost", "好的，正在为您生成图片…"),
    "lost_agreed_en.sse": ([], None, None, "picture_lost", "Sure, generating your image…"),
    "refused_plain.sse": ([], None, None, "refused", "I can't help with that."),
    "openrouter_processing.sse": ([TINY], "done", 100, None, ""),
}
# Errors the gateway sent in place of a reply: the client raises them as it raises HTTP ones.
RAISED = {name for name in SAMPLES if name.startswith("error_")} | {
    "stream_status_500.sse",
    "openrouter_error_chunk.sse",
}


def test_every_sample_in_the_folder_is_replayed():
    assert {path.name for path in CHAT.iterdir()} == set(SAMPLES)


@pytest.mark.parametrize(("name", "expected"), SAMPLES.items())
def test_recorded_samples(name, expected):
    images, stage, progress, code, words = expected
    reply = read_reply(f"chat/{name}").result()
    assert [describe_image_ref(ref) for ref in reply.images] == images
    assert (reply.stage, reply.progress) == (stage, progress)
    assert (reply.failure and reply.failure.code) == code
    if code:
        assert words in reply.failure.detail


@pytest.mark.parametrize("name", [name for name in SAMPLES if name.endswith(".sse")])
def test_recorded_streams_are_steady_event_by_event(name):
    accumulator = ReplyAccumulator()
    interim = []
    for data in iter_sse_data((CHAT / name).read_text(encoding="utf-8").split("\n")):
        accumulator.feed_chunk(json.loads(data))
        interim.append(accumulator.result(complete=False))
    assert_steady(interim, accumulator.result())


def scripted_sample(name: str) -> Scripted:
    text = (CHAT / name).read_text(encoding="utf-8")
    if name.endswith(".sse"):
        return Scripted(pieces=[text.encode()])
    if name.endswith(".json"):
        return Scripted(content_type="application/json", pieces=[text.encode()])
    return Scripted(pieces=sse(delta(text), STOP, "data: [DONE]"))


@pytest.mark.parametrize(("name", "expected"), SAMPLES.items())
def test_recorded_samples_through_the_chat_client(name, expected):
    images, _stage, _progress, code, words = expected
    with ScriptedGateway(scripted_sample(name)) as server:
        if name in RAISED:
            with pytest.raises(GatewayFailure) as caught:
                request_edit(gateway(server.url), PAYLOAD)
            assert (caught.value.failure.code, caught.value.status) == (code, 0)
            assert words in caught.value.failure.detail
            assert not caught.value.output_started  # the model had said nothing
            return
        outcome = request_edit(gateway(server.url), PAYLOAD)
    assert [describe_image_ref(ref) for ref in outcome.reply.images] == images
    assert (outcome.reply.failure and outcome.reply.failure.code) == code


@pytest.mark.parametrize("name", [name for name in SAMPLES if name.startswith("error_")])
def test_recorded_error_bodies_as_http_errors(name):
    body = (CHAT / name).read_text(encoding="utf-8")
    assert classify_http_error(400, body, "application/json").code == "content_filtered"
    refused = Scripted(status=400, content_type="application/json", pieces=[body.encode()])
    with ScriptedGateway(refused) as server, pytest.raises(GatewayFailure) as caught:
        request_edit(gateway(server.url), PAYLOAD)
    assert caught.value.failure.code == "content_filtered"
    assert (caught.value.status, caught.value.output_started) == (400, False)


# -- 1. progress in reasoning_content --------------------------------------------------------


def test_progress_only_in_reasoning_is_progress():
    accumulator = accumulated(
        delta_chunk({"role": "assistant", "content": "", "reasoning_content": "生成中…\n"})
    )
    assert (accumulator.result(complete=False).stage, accumulator.result(False).progress) == (
        "generating",
        None,
    )
    accumulator.feed_chunk(delta_chunk({"reasoning_content": "27%\n"}))
    accumulator.feed_chunk(delta_chunk({"reasoning_content": "> 进度 12..64..\n"}))
    running = accumulator.result(complete=False)
    assert (running.stage, running.progress, running.failure) == ("generating", 64, None)
    accumulator.feed_chunk(delta_chunk({"content": f"![image]({PNG_URI})"}, "stop"))
    assert accumulator.result().images == [PNG_URI]


def test_a_bare_percent_line_in_content_is_the_models_words_still():
    # Only the reasoning of these bridges is all status; content keeps its own rules.
    reply = parse_reply("45%", complete=False)
    assert (reply.stage, reply.progress) == (None, None)


def test_an_image_in_reasoning_is_found_too():
    accumulator = accumulated(
        delta_chunk({"reasoning_content": f"生成中…\n![image]({PNG_URI})\n"}), STOP
    )
    assert accumulator.result().images == [PNG_URI]


def test_reasoning_words_are_the_failure_when_content_says_nothing():
    accumulator = accumulated(
        delta_chunk({"reasoning_content": "生成中…\n生成失败：上游负载已饱和\n"}), STOP
    )
    failure = accumulator.result().failure
    assert (failure.code, failure.detail) == ("rate_limited", "生成失败：上游负载已饱和")


def test_content_words_come_before_reasoning_words():
    accumulator = accumulated(
        delta_chunk({"reasoning_content": "The user wants a dragon; I should decline."}),
        delta_chunk({"content": "I can't help with that."}),
        STOP,
    )
    assert accumulator.result().failure.detail == "I can't help with that."


def test_reasoning_is_in_the_raw_reply_kept():
    events = sse(
        delta("", reasoning_content="生成中…\n进度 40%\n"), delta(f"![image]({PNG_URI})"), STOP
    )
    with ScriptedGateway(Scripted(pieces=events)) as server:
        outcome = request_edit(gateway(server.url), PAYLOAD)
    assert outcome.reply.images == [PNG_URI]
    assert "进度 40%" in outcome.raw_text
    assert PNG not in outcome.raw_text  # data URIs are elided as ever


def test_reasoning_progress_is_reported_as_it_streams(monkeypatch):
    monkeypatch.setattr(chat_client, "PROGRESS_INTERVAL", 0.0)
    seen = []
    events = [
        *sse(delta("", reasoning_content="生成中…\n")),
        0.05,
        *sse(delta("", reasoning_content="30%\n")),
        0.05,
        *sse(delta("", reasoning_content="70%\n")),
        0.05,
        *sse(delta(f"![image]({PNG_URI})"), STOP),
    ]
    with ScriptedGateway(Scripted(pieces=events)) as server:
        request_edit(gateway(server.url), PAYLOAD, on_progress=lambda r: seen.append(r.progress))
    numbers = [p for p in seen if p is not None]
    assert 30 in numbers and 70 in numbers
    assert numbers == sorted(numbers)


# -- 2. images in more places -----------------------------------------------------------------


JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(range(80))).decode()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param(
            {"content": "", "image": {"url": PNG_URI, "detail": "auto"}}, [PNG_URI], id="image"
        ),
        pytest.param(
            {"images": [{"index": 0, "url": PNG_URI, "detail": "auto"}]},
            [PNG_URI],
            id="images-entry-with-index",
        ),
        pytest.param(
            {"multi_mod_content": [{"inlineData": {}}, {"inlineData": {"data": PNG}}]},
            [PNG_URI],
            id="inline-data-without-mime",
        ),
        pytest.param(
            {"multi_mod_content": [{"inlineData": {"data": JPEG, "mimeType": "jpg"}}]},
            [f"data:image/jpeg;base64,{JPEG}"],
            id="bare-jpg",
        ),
        pytest.param(
            {"multi_mod_content": [{"inlineData": {"data": PNG, "mimeType": "IMAGE/PNG"}}]},
            [PNG_URI],
            id="full-mime",
        ),
        pytest.param(
            {"content": [{"inline_data": {"mime_type": "png", "data": PNG}}]},
            [PNG_URI],
            id="snake-case-part",
        ),
        pytest.param(
            {"multi_mod_content": [{"inlineData": {"data": PNG, "mimeType": "audio/wav"}}]},
            [],
            id="not-a-picture",
        ),
        pytest.param(
            {"multi_mod_content": [{"inlineData": {"data": "AAAA", "mimeType": "png"}}]},
            [],
            id="too-short-to-be-a-picture",
        ),
        pytest.param(
            {"multi_mod_content": [{"inlineData": {"data": PNG_URI, "mimeType": "png"}}]},
            [PNG_URI],
            id="data-uri-inside",
        ),
    ],
)
def test_images_in_more_places(message, expected):
    reply = whole({"role": "assistant", **message}).result()
    assert reply.images == expected
    assert (reply.failure is None) == bool(expected)


def test_a_delta_image_in_a_stream():
    accumulator = accumulated(
        delta_chunk({"content": "Here you go."}),
        delta_chunk({"image": {"url": PNG_URI, "detail": "auto"}}),
        STOP,
    )
    assert accumulator.result().images == [PNG_URI]


def test_multi_mod_content_words_count_when_content_has_none():
    accumulator = whole({"content": None, "multi_mod_content": [{"text": "抱歉，无法生成。"}]})
    assert accumulator.result().failure.detail == "抱歉，无法生成。"


def test_multi_mod_content_words_do_not_repeat_the_content():
    accumulator = whole(
        {
            "content": "这是修改后的图片：",
            "multi_mod_content": [
                {"text": "这是修改后的图片："},
                {"inlineData": {"data": PNG, "mimeType": "png"}},
            ],
        }
    )
    assert accumulator.text == "这是修改后的图片："
    assert accumulator.result().images == [PNG_URI]


def test_text_parts_around_an_image_part_stay_apart():
    accumulator = whole(
        {
            "content": [
                {"type": "text", "text": "> ✅ 生成完成"},
                {"type": "image_url", "image_url": {"url": PNG_URI, "detail": "high"}},
                {"type": "text", "text": "Enjoy."},
            ]
        }
    )
    assert accumulator.text == "> ✅ 生成完成\nEnjoy."
    assert accumulator.result().images == [PNG_URI]


# -- 3. an echo fence closed late ----------------------------------------------------------


ECHO = '```json\n{"prompt": "参考 https://example.com/ref.png {不是 JSON}", "n": 1}\n'


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(f"![out]({FLUX})\n[点击下载]({FLUX})\n```", id="image-right-after"),
        pytest.param(f"> ✅ 生成完成\n![out]({FLUX})\n```\n", id="status-then-image"),
        pytest.param(f"{FLUX}\n```", id="bare-link"),
        pytest.param(f"![out]({FLUX})", id="never-closed-at-all"),
    ],
)
def test_an_echo_fence_closed_after_the_image(after):
    text = ECHO + after
    assert parse_reply(text).images == [FLUX]
    final, interim = stream_text(text)
    assert final.images == [FLUX]
    assert_steady(interim, final)


def test_the_echoed_prompt_is_still_no_result():
    text = ECHO + "> ⚡ 生成中...\n```"
    reply = parse_reply(text)
    assert reply.images == []
    assert "example.com" not in reply.failure.detail


def test_a_fence_of_several_json_objects_is_one_echo():
    text = '```json\n{"a": 1}\n{"image": "https://example.com/ref.png"}\n```\n抱歉'
    reply = parse_reply(text)
    assert reply.images == []
    assert reply.failure.detail == "抱歉"


def test_the_unclosed_echo_sample_through_the_client_streamed_dot_by_dot():
    text = (CHAT / "unclosed_echo.txt").read_text(encoding="utf-8")
    final, interim = stream_text(text)
    assert final.images == [FLUX]
    assert_steady(interim, final)


# -- 7. keep-alives with words, and a whole data URI in one event --------------------------


def test_openrouter_processing_comments_are_ignored():
    lines = [": OPENROUTER PROCESSING", "", ": OPENROUTER PROCESSING", "", "data: {}", ""]
    assert list(iter_sse_data(lines)) == ["{}"]


def big_picture(megabytes: int) -> str:
    payload = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (megabytes * 3072))
    return "data:image/png;base64," + payload.decode()


def test_a_several_megabyte_data_uri_in_one_event():
    picture = big_picture(5)
    assert len(picture) > 5 * 2**20
    events = [
        *sse(": OPENROUTER PROCESSING", delta("")),
        *sse(delta("", images=[{"type": "image_url", "image_url": {"url": picture}}])),
        *sse(delta(f"![image]({picture})"), STOP, "data: [DONE]"),
    ]
    with ScriptedGateway(Scripted(pieces=events)) as server:
        outcome = request_edit(gateway(server.url), PAYLOAD)
    assert outcome.reply.images == [picture]  # the same picture twice is one result
    assert len(outcome.raw_text) < 1000  # elided for the record


# -- 8. the HTTP status and whether output had started -------------------------------------


def test_an_http_error_names_its_status_and_no_output():
    body = b'{"error": {"message": "no channel", "code": "model_not_found"}}'
    down = Scripted(status=503, content_type="application/json", pieces=[body])
    with ScriptedGateway(down) as server, pytest.raises(GatewayFailure) as caught:
        request_edit(gateway(server.url), PAYLOAD)
    assert (caught.value.status, caught.value.output_started) == (503, False)


def test_a_connect_failure_has_no_status_and_no_output():
    with ScriptedGateway() as server:
        url = server.url
    with pytest.raises(GatewayFailure) as caught:
        request_edit(gateway(url), PAYLOAD)
    assert (caught.value.status, caught.value.output_started) == (0, False)


def test_silence_from_the_start_has_no_output():
    with ScriptedGateway(Scripted(pieces=[1.0])) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url, read_timeout=0.3), PAYLOAD)
    assert (caught.value.failure.code, caught.value.output_started) == ("timeout", False)


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param([*sse(delta("> 🕐 排队中...")), 1.0], id="silence-after-words"),
        pytest.param([*sse(": OPENROUTER PROCESSING"), 1.0], id="silence-after-keep-alive"),
    ],
)
def test_a_timeout_once_the_body_began_has_output(pieces):
    with ScriptedGateway(Scripted(pieces=pieces)) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url, read_timeout=0.3), PAYLOAD)
    assert (caught.value.failure.code, caught.value.output_started) == ("timeout", True)
    assert not moves_on(caught.value)


def test_a_drop_mid_stream_has_output():
    with ScriptedGateway(Scripted(pieces=sse(delta("> 🕐 排队中...")), drop=True)) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url), PAYLOAD)
    assert (caught.value.failure.code, caught.value.output_started) == ("connection_failed", True)
    assert caught.value.status == 0


def test_the_recorded_reasoning_progress_shows_on_the_way():
    accumulator = ReplyAccumulator()
    seen = []
    for data in iter_sse_data((CHAT / "reasoning_progress.sse").read_text().split("\n")):
        accumulator.feed_chunk(json.loads(data))
        running = accumulator.result(complete=False)
        seen.append((running.stage, running.progress))
    assert ("queued", None) in seen
    assert ("generating", 12) in seen and ("generating", 93) in seen
    assert seen[-1] == ("done", 100)


def test_an_error_chunk_then_a_cut_line_is_still_the_error():
    chunk = {
        "error": {"code": "server_error", "message": "Provider disconnected"},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }
    with ScriptedGateway(Scripted(pieces=sse(chunk), drop=True)) as server:
        with pytest.raises(GatewayFailure) as caught:
            request_edit(gateway(server.url), PAYLOAD)
    assert caught.value.failure.code == "upstream_error"
    assert not caught.value.output_started


def test_an_echo_closed_after_a_blank_line_is_closed_there():
    text = '```json\n{"prompt": "https://example.com/ref.png"}\n\n```\n' + f"![out]({FLUX})"
    final, interim = stream_text(text)
    assert final.images == [FLUX]
    assert_steady(interim, final)
