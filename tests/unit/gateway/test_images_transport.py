"""The images API transport against scripted gateways over real local sockets."""

import base64
import json
import socket

import pytest

from gateway.config import GatewayConfig
from gateway.failures import GatewayFailure
from gateway.images import client as images_client
from gateway.images.client import ImagesTransport
from gateway.options import RequestOptions
from gateway.transport import ImageRequest, ParsedReply, Picture
from tests.support.reply_samples import PNG
from tests.support.scripted_gateway import (
    Scripted,
    ScriptedGateway,
    form_parts,
    named_sse,
    sse,
)

KEY = "gaitu-key-7f3a9c21"  # not sk-…: the transport itself must hide it
PNG_BYTES = base64.b64decode(PNG)
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"jpeg picture bytes" * 20
MASK_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3  # every byte value, to catch mangling
LINK = "https://cdn.example.net/images/out-1.png?sig=abc"


def config(url: str, **options) -> GatewayConfig:
    options = {"read_timeout": 5.0, "total_timeout": 10.0, "stream": False, **options}
    return GatewayConfig(url, KEY, transport="images", **options)


def edit(model: str = "gpt-image-1", **fields) -> ImageRequest:
    pictures = fields.pop("pictures", [Picture(PNG_BYTES, "image/png")])
    return ImageRequest(model, "把背景换成蓝天白云", pictures, **fields)


def json_reply(body: dict, status: int = 200, **script) -> Scripted:
    return Scripted(status, "application/json", [json.dumps(body).encode()], **script)


def b64_reply(count: int = 1, **extra) -> dict:
    return {"created": 1, "data": [{"b64_json": PNG}] * count, **extra}


def send(server: ScriptedGateway, request: ImageRequest, progress=None, **options):
    return ImagesTransport(config(server.url, **options)).send(request, progress)


def failure_of(server: ScriptedGateway, request: ImageRequest, **options) -> GatewayFailure:
    with pytest.raises(GatewayFailure) as caught:
        send(server, request, **options)
    return caught.value


def fields_of(parts) -> dict[str, str]:
    return {part.name: part.text for part in parts if part.filename is None}


# The request


def test_pictures_go_as_a_multipart_edit_in_order_with_the_mask_untouched():
    request = edit(
        pictures=[Picture(PNG_BYTES, "image/png"), Picture(JPEG_BYTES, "image/jpeg")],
        options=RequestOptions(size="3:2", n=2, quality="high"),
        mask=MASK_BYTES,
    )
    with ScriptedGateway(json_reply(b64_reply(2))) as server:
        send(server, request)
    sent = server.requests[0]
    assert (sent["method"], sent["path"]) == ("POST", "/v1/images/edits")
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    assert sent["headers"]["Accept"] == "application/json"
    parts = form_parts(sent)
    files = [(p.name, p.filename, p.content_type, p.data) for p in parts if p.filename]
    assert files == [
        ("image[]", "image-1.png", "image/png", PNG_BYTES),
        ("image[]", "image-2.jpg", "image/jpeg", JPEG_BYTES),
        ("mask", "mask.png", "image/png", MASK_BYTES),
    ]
    assert fields_of(parts) == {
        "prompt": "把背景换成蓝天白云",
        "model": "gpt-image-1",
        "n": "2",
        "size": "1536x1024",
        "quality": "high",
    }


def test_an_edit_without_a_mask_or_options_sends_only_what_is_needed():
    with ScriptedGateway(json_reply(b64_reply())) as server:
        send(server, edit())
    parts = form_parts(server.requests[0])
    assert [p.name for p in parts if p.filename] == ["image[]"]
    assert fields_of(parts) == {"prompt": "把背景换成蓝天白云", "model": "gpt-image-1"}


def test_a_pixel_size_is_sent_as_it_is():
    request = edit("gpt-image-2", options=RequestOptions(size="1024x768"))
    with ScriptedGateway(json_reply(b64_reply())) as server:
        send(server, request)
    assert fields_of(form_parts(server.requests[0]))["size"] == "1024x768"


DEPLOYMENT = {
    "background": "transparent",
    "output_format": "webp",
    "output_compression": 80,
    "moderation": "low",
    "input_fidelity": "high",
    "modalities": ["image", "text"],  # the chat transport's, never the images API's
    "max_tokens": 900,
}


def test_the_deployment_s_image_fields_go_with_every_edit():
    with ScriptedGateway(json_reply(b64_reply())) as server:
        send(server, edit(), extra_body=DEPLOYMENT)
    fields = fields_of(form_parts(server.requests[0]))
    assert {name: fields.get(name) for name in DEPLOYMENT} == {
        "background": "transparent",
        "output_format": "webp",
        "output_compression": "80",
        "moderation": "low",
        "input_fidelity": "high",
        "modalities": None,
        "max_tokens": None,
    }


@pytest.mark.parametrize(
    ("model", "sent"),
    [
        ("gpt-image-1", True),
        ("gpt-image-1-2025-04-23", True),
        ("gpt-image-1.5", True),
        ("GPT-Image-1.5-2025-12-16", True),
        ("gpt-image-1-mini", False),
        ("gpt-image-2", False),
        ("dall-e-2", False),
        ("doubao-seedream-4-0-250828", False),
    ],
)
def test_input_fidelity_goes_only_to_models_that_take_it(model, sent):
    with ScriptedGateway(json_reply(b64_reply())) as server:
        send(server, edit(model), extra_body={"input_fidelity": "high", "moderation": "low"})
    fields = fields_of(form_parts(server.requests[0]))
    assert ("input_fidelity" in fields) is sent
    assert fields["moderation"] == "low"  # the other deployment fields go to every model


def test_no_pictures_is_a_generation_sent_as_json_without_the_mask():
    request = ImageRequest(
        "gpt-image-1",
        "a lighthouse at dusk",
        options=RequestOptions(size="16:9", n=3, quality="low"),
        mask=MASK_BYTES,
    )
    with ScriptedGateway(json_reply(b64_reply(3))) as server:
        outcome = send(server, request, extra_body=DEPLOYMENT)
    sent = server.requests[0]
    assert sent["path"] == "/v1/images/generations"
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["json"] == {
        "prompt": "a lighthouse at dusk",
        "model": "gpt-image-1",
        "n": 3,
        "size": "1536x1024",  # the nearest of gpt-image-1's three (test_images_sizes.py)
        "quality": "low",
        "background": "transparent",
        "output_format": "webp",
        "output_compression": 80,
        "moderation": "low",
    }
    assert len(outcome.reply.images) == 3


def test_a_base_url_with_v1_is_not_doubled():
    with ScriptedGateway(json_reply(b64_reply())) as server:
        ImagesTransport(GatewayConfig(f"{server.url}/v1/", KEY, stream=False)).send(edit())
    assert server.requests[0]["path"] == "/v1/images/edits"


# Results


def test_b64_json_becomes_a_full_data_uri_with_the_usage_kept():
    usage = {"input_tokens": 1358, "output_tokens": 4160, "total_tokens": 5518}
    with ScriptedGateway(json_reply(b64_reply(usage=usage))) as server:
        outcome = send(server, edit())
    assert outcome.reply == ParsedReply([f"data:image/png;base64,{PNG}"], "done", 100, None)
    assert outcome.usage == usage
    assert PNG not in outcome.raw_text  # the picture is elided from the record…
    assert '"b64_json": "<77 bytes>"' in outcome.raw_text  # …its size kept
    assert '"output_tokens": 4160' in outcome.raw_text


UNKNOWN = base64.b64encode(b"\x00\x01 bytes of no known format" * 4).decode()


@pytest.mark.parametrize(
    ("payload", "reply_says", "deployment_asks", "kind"),
    [
        (PNG, "jpeg", "webp", "png"),  # what the bytes are wins
        (base64.b64encode(JPEG_BYTES).decode(), None, "png", "jpeg"),
        (UNKNOWN, "jpeg", "webp", "jpeg"),  # else what the reply says
        (UNKNOWN, None, "webp", "webp"),  # else what was asked for
        (UNKNOWN, None, None, "png"),  # else the images API's default
    ],
)
def test_the_data_uri_names_the_picture_s_format(payload, reply_says, deployment_asks, kind):
    body = {"created": 1, "data": [{"b64_json": payload}]}
    if reply_says:
        body["output_format"] = reply_says
    extra = {"output_format": deployment_asks} if deployment_asks else {}
    with ScriptedGateway(json_reply(body)) as server:
        outcome = send(server, edit(), extra_body=extra)
    assert outcome.reply.images == [f"data:image/{kind};base64,{payload}"]


def test_url_results_are_kept_as_links_with_the_revised_prompt_in_the_record():
    body = {"created": 1, "data": [{"url": LINK, "revised_prompt": "A calm blue sky"}]}
    with ScriptedGateway(json_reply(body)) as server:
        outcome = send(server, ImageRequest("dall-e-3", "sky"))
    assert outcome.reply.images == [LINK]
    assert "A calm blue sky" in outcome.raw_text


def test_an_empty_reply_is_a_refusal_without_words():
    with ScriptedGateway(json_reply({"created": 1, "data": []})) as server:
        outcome = send(server, edit())
    assert outcome.reply.images == []
    failure = outcome.reply.failure
    assert failure is not None and (failure.code, failure.reason) == ("refused", "empty")


def test_an_empty_reply_with_output_billed_is_a_lost_picture():
    body = {"created": 1, "data": [], "usage": {"input_tokens": 10, "output_tokens": 4160}}
    with ScriptedGateway(json_reply(body)) as server:
        outcome = send(server, edit())
    failure = outcome.reply.failure
    assert failure is not None and failure.code == "picture_lost"
    assert "4160" in failure.detail
    assert outcome.usage["output_tokens"] == 4160


def test_an_error_inside_a_200_is_a_gateway_failure_in_its_own_words():
    body = {"error": {"message": "upstream says no: IMAGE_SAFETY", "type": "channel_error"}}
    with ScriptedGateway(json_reply(body)) as server:
        failed = failure_of(server, edit())
    assert failed.failure.code == "content_filtered"
    assert "IMAGE_SAFETY" in failed.failure.detail
    # The whole reply was the error: nothing was being made, nothing more will come.
    assert (failed.retryable, failed.output_started, failed.status) == (False, False, 0)


# Streaming


def stream_events(kind: str = "image_edit", output_format: str = "png") -> list[bytes]:
    common = {"created_at": 1, "size": "1024x1024", "output_format": output_format}
    return named_sse(
        (f"{kind}.partial_image", {"type": f"{kind}.partial_image", "b64_json": PNG, **common}),
        (
            f"{kind}.completed",
            {
                "type": f"{kind}.completed",
                "b64_json": PNG,
                **common,
                "usage": {"input_tokens": 50, "output_tokens": 4260, "total_tokens": 4310},
            },
        ),
    )


def test_a_streamed_edit_reports_progress_from_partial_to_completed():
    seen: list[ParsedReply] = []
    script = Scripted(pieces=[*sse(": keep-alive"), *stream_events()])
    with ScriptedGateway(script) as server:
        outcome = send(server, edit(), seen.append, stream=True)
    sent = server.requests[0]
    assert sent["headers"]["Accept"] == "text/event-stream"
    fields = fields_of(form_parts(sent))
    assert (fields["stream"], fields["partial_images"]) == ("true", "1")
    assert [(r.stage, r.progress, len(r.images)) for r in seen] == [
        ("generating", None, 0),  # the stream opened
        ("generating", None, 0),  # the partial picture: not a result
        ("done", 100, 1),
    ]
    assert outcome.reply.images == [f"data:image/png;base64,{PNG}"]
    assert outcome.usage["output_tokens"] == 4260
    assert PNG not in outcome.raw_text
    assert "image_edit.partial_image" in outcome.raw_text


def test_a_streamed_generation_is_json_asking_for_the_stream():
    script = Scripted(pieces=[*stream_events("image_generation", "jpeg"), *sse("data: [DONE]")])
    with ScriptedGateway(script) as server:
        outcome = send(server, ImageRequest("gpt-image-1", "a lighthouse"), stream=True)
    sent = server.requests[0]["json"]
    assert (sent["stream"], sent["partial_images"]) == (True, 1)
    # The event says jpeg, but the bytes are a PNG: they win.
    assert outcome.reply.images == [f"data:image/png;base64,{PNG}"]


def test_events_named_only_by_their_event_line_are_read_too():
    completed = {"b64_json": PNG, "usage": {"output_tokens": 9}}
    script = Scripted(pieces=named_sse(("image_edit.completed", completed), crlf=True))
    with ScriptedGateway(script) as server:
        outcome = send(server, edit(), stream=True)
    assert outcome.reply.images == [f"data:image/png;base64,{PNG}"]
    assert outcome.usage == {"output_tokens": 9}


@pytest.mark.parametrize("model", ["dall-e-3", "doubao-seedream-4-0-250828"])
def test_models_that_do_not_stream_are_not_asked_to(model):
    with ScriptedGateway(json_reply(b64_reply())) as server:
        send(server, edit(model), stream=True)
    sent = server.requests[0]
    assert sent["headers"]["Accept"] == "application/json"
    assert "stream" not in fields_of(form_parts(sent))


def test_a_json_reply_to_a_stream_request_is_read_as_json():
    seen: list[ParsedReply] = []
    with ScriptedGateway(json_reply(b64_reply(2))) as server:
        outcome = send(server, edit(), seen.append, stream=True)
    assert fields_of(form_parts(server.requests[0]))["stream"] == "true"
    assert outcome.reply.images == [f"data:image/png;base64,{PNG}"] * 2


def test_n_completed_events_make_n_results_and_done_comes_with_the_last():
    seen: list[ParsedReply] = []
    one = {"type": "image_generation.completed", "b64_json": PNG}
    script = Scripted(pieces=sse(one, {**one, "usage": {"output_tokens": 8000}}))
    request = ImageRequest("gpt-image-1", "two ships", options=RequestOptions(n=2))
    with ScriptedGateway(script) as server:
        outcome = send(server, request, seen.append, stream=True)
    assert [(r.stage, len(r.images)) for r in seen] == [
        ("generating", 0),
        ("generating", 1),
        ("done", 2),
    ]
    assert len(outcome.reply.images) == 2
    assert outcome.usage == {"output_tokens": 8000}


def test_an_error_event_is_the_reply_s_failure():
    error = {"type": "error", "error": {"code": "image_generation_failed", "message": "it broke"}}
    with ScriptedGateway(Scripted(pieces=named_sse(("error", error)))) as server:
        outcome = send(server, edit(), stream=True)
    failure = outcome.reply.failure
    assert outcome.reply.images == []
    assert failure is not None and (failure.code, failure.detail) == ("upstream_error", "it broke")


def test_a_moderation_error_event_is_content_filtered():
    error = {"type": "error", "error": {"code": "moderation_blocked", "message": "rejected"}}
    with ScriptedGateway(Scripted(pieces=sse(error))) as server:
        outcome = send(server, edit(), stream=True)
    assert outcome.reply.failure is not None
    assert outcome.reply.failure.code == "content_filtered"


def test_a_stream_with_nothing_but_billed_output_is_a_lost_picture():
    event = {"type": "image_edit.completed", "b64_json": "", "usage": {"output_tokens": 4160}}
    with ScriptedGateway(Scripted(pieces=sse(event))) as server:
        outcome = send(server, edit(), stream=True)
    assert outcome.reply.failure is not None
    assert outcome.reply.failure.code == "picture_lost"


# HTTP errors


@pytest.mark.parametrize(
    ("status", "content_type", "body", "code", "retryable"),
    [
        (401, "application/json", {"error": {"message": "Invalid token"}}, "key_rejected", False),
        (402, "application/json", {"error": {"message": "余额不足"}}, "quota_exhausted", False),
        (429, "application/json", {"error": {"message": "上游负载已饱和"}}, "rate_limited", True),
        (400, "application/json", {"error": {"code": "moderation_blocked", "message": "x"}},
         "content_filtered", False),
        (400, "application/json", {"error": {"message": "Invalid size"}}, "bad_request", False),
        (500, "application/json", {"error": {"message": "server error"}}, "gateway_error", False),
        (502, "text/html", "<html><title>502 Bad Gateway</title></html>", "gateway_error", True),
        (503, "application/json", {"error": {"code": "model_not_found", "message": "无可用渠道"}},
         "model_unavailable", True),
        (504, "text/html", "<html><title>504 Gateway Time-out</title></html>", "gateway_error",
         True),
    ],
)  # fmt: skip
def test_http_errors_are_classified_like_chat_with_their_status(
    status, content_type, body, code, retryable
):
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    script = Scripted(status, content_type, [text.encode()])
    with ScriptedGateway(script) as server:
        failed = failure_of(server, edit())
    assert (failed.failure.code, failed.status, failed.retryable) == (code, status, retryable)
    assert failed.output_started is False
    assert failed.retry_after is None


def test_retry_after_is_honoured():
    script = json_reply({"error": {"message": "slow down"}}, 429, headers={"Retry-After": "7"})
    with ScriptedGateway(script) as server:
        failed = failure_of(server, edit())
    assert (failed.failure.code, failed.retryable, failed.retry_after) == (
        "rate_limited",
        True,
        7.0,
    )


# Connections and timeouts


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_is_retryable_and_before_any_output():
    gateway = config(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(GatewayFailure) as caught:
        ImagesTransport(gateway).send(edit())
    failed = caught.value
    assert (failed.failure.code, failed.retryable, failed.output_started) == (
        "connection_failed",
        True,
        False,
    )


def test_silence_before_any_reply_is_a_retryable_timeout_from_the_config():
    with ScriptedGateway(Scripted(wait=1.0)) as server:
        failed = failure_of(server, edit(), read_timeout=0.3)
    assert failed.failure.code == "timeout"
    assert "0.3 s" in failed.failure.detail
    assert (failed.retryable, failed.output_started) == (True, False)


def test_a_hang_up_before_any_reply_is_retryable():
    with ScriptedGateway(Scripted(hang_up=True)) as server:
        failed = failure_of(server, edit())
    assert (failed.failure.code, failed.retryable, failed.output_started) == (
        "connection_failed",
        True,
        False,
    )


def test_a_body_dropped_midway_means_output_had_started():
    body = json.dumps(b64_reply()).encode()
    script = Scripted(200, "application/json", [body[:40]], drop=True)
    with ScriptedGateway(script) as server:
        failed = failure_of(server, edit())
    assert (failed.failure.code, failed.retryable, failed.output_started) == (
        "connection_failed",
        False,
        True,
    )


def test_a_stream_dropped_after_the_partial_picture_means_output_had_started():
    script = Scripted(pieces=stream_events()[:1], drop=True)
    with ScriptedGateway(script) as server:
        failed = failure_of(server, edit(), stream=True)
    assert (failed.failure.code, failed.retryable, failed.output_started) == (
        "connection_failed",
        False,
        True,
    )
    assert "image_edit.partial_image" in failed.raw_text
    assert PNG not in failed.raw_text


def test_silence_after_the_stream_opened_is_a_timeout_never_retried():
    script = Scripted(pieces=[*stream_events()[:1], 1.0])
    with ScriptedGateway(script) as server:
        failed = failure_of(server, edit(), stream=True, read_timeout=0.3)
    assert failed.failure.code == "timeout"
    assert (failed.retryable, failed.output_started) == (False, True)


def test_a_stream_dropped_after_one_of_two_pictures_keeps_the_one():
    one = {"type": "image_edit.completed", "b64_json": PNG}
    request = edit(options=RequestOptions(n=2))
    with ScriptedGateway(Scripted(pieces=sse(one), drop=True)) as server:
        outcome = send(server, request, stream=True)
    assert outcome.reply.images == [f"data:image/png;base64,{PNG}"]


def test_the_total_deadline_ends_an_endless_trickle():
    trickle = [piece for _ in range(40) for piece in (*sse(": keep-alive"), 0.05)]
    with ScriptedGateway(Scripted(pieces=trickle)) as server:
        failed = failure_of(server, edit(), stream=True, read_timeout=1.0, total_timeout=0.5)
    assert failed.failure.code == "timeout"
    assert "0.5 s" in failed.failure.detail
    assert (failed.retryable, failed.output_started) == (False, True)


# The key


def test_the_key_never_reaches_an_error_s_detail_or_record():
    body = {"error": {"message": f"Invalid API key: {KEY} (request id: 1)", "code": "invalid"}}
    with ScriptedGateway(json_reply(body, 401)) as server:
        failed = failure_of(server, edit())
    assert failed.failure.code == "key_rejected"
    assert KEY not in failed.failure.detail and "***" in failed.failure.detail
    assert KEY not in failed.raw_text and "***" in failed.raw_text


def test_the_key_never_reaches_a_reply_s_failure_or_record():
    error = {"type": "error", "error": {"message": f"token {KEY} is over its limit of images"}}
    with ScriptedGateway(Scripted(pieces=sse(error))) as server:
        outcome = send(server, edit(), stream=True)
    assert outcome.reply.failure is not None
    assert KEY not in outcome.reply.failure.detail and "***" in outcome.reply.failure.detail
    assert KEY not in outcome.raw_text and "***" in outcome.raw_text


def test_the_record_is_capped(monkeypatch):
    monkeypatch.setattr(images_client, "RAW_REPLY_LIMIT", 300)
    body = {**b64_reply(), "note": "x" * 5000}
    with ScriptedGateway(json_reply(body)) as server:
        outcome = send(server, edit())
    assert len(outcome.raw_text) == 300
    assert outcome.reply.images == [f"data:image/png;base64,{PNG}"]
