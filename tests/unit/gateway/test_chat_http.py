"""The chat-edit client against scripted gateways over real local sockets."""

import pytest

from gateway import retries
from gateway.chat import client as upstream
from gateway.chat.client import ChatTransport, request_edit
from gateway.config import GatewayConfig as Gateway
from gateway.failures import GatewayFailure as UpstreamFailure
from gateway.retries import send_with_retries
from gateway.transport import ImageRequest
from tests.support.scripted_gateway import Scripted, ScriptedGateway, delta, sse

IMAGE = "https://cdn.example/cdn/2026/a.png"
PAYLOAD = {"model": "gpt-4o-image", "messages": []}
REQUEST = ImageRequest("gpt-4o-image", "make it blue")


def request_edit_with_retries(gateway: Gateway, request: ImageRequest, **options):
    return send_with_retries(ChatTransport(gateway), request, **options)


def gateway(url: str, **options) -> Gateway:
    options = {"read_timeout": 5.0, "total_timeout": 10.0, **options}
    return Gateway(url, "sk-test-secret", **options)


def transcript(crlf: bool = False) -> list[bytes]:
    return sse(
        ": keep-alive",
        delta("> 🕐 排队中..."),
        delta("\n> 🏃 进度 "),
        delta("12.."),
        delta("58.."),
        {"choices": []},
        delta(f"\n> ✅ 生成完成\n![gen_1]({IMAGE})\n"),
        delta(f"[点击下载]({IMAGE.replace('/cdn/', '/cdn/download/')})"),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 20}},
        crlf=crlf,
    )


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("done", [True, False], ids=["with-done", "without-done"])
def test_stream_is_read_to_the_image(crlf, done):
    pieces = transcript(crlf) + (sse("data: [DONE]", crlf=crlf) if done else [])
    with ScriptedGateway(Scripted(pieces=pieces)) as server:
        outcome = request_edit(gateway(server.url), PAYLOAD)
    assert outcome.reply.images == [IMAGE]
    assert (outcome.reply.stage, outcome.reply.progress, outcome.reply.failure) == (
        "done",
        100,
        None,
    )
    assert outcome.usage["completion_tokens"] == 20
    sent = server.requests[0]
    assert sent["headers"]["Authorization"] == "Bearer sk-test-secret"
    assert sent["headers"]["Accept"] == "text/event-stream"


def test_progress_is_reported_as_it_streams(monkeypatch):
    monkeypatch.setattr(upstream, "PROGRESS_INTERVAL", 0.0)
    seen = []
    pieces = [*sse(delta("> 🏃 进度 ")), 0.05, *sse(delta("12..")), 0.05, *sse(delta("58..")), 0.05]
    with ScriptedGateway(Scripted(pieces=pieces + transcript())) as server:
        request_edit(
            gateway(server.url), PAYLOAD, on_progress=lambda reply: seen.append(reply.progress)
        )
    numbers = [p for p in seen if p is not None]
    assert 12 in numbers and 58 in numbers
    assert numbers == sorted(numbers)


def test_a_json_reply_to_a_stream_request_is_read_too():
    body = b'{"choices": [{"index": 0, "message": {"content": "![x](' + IMAGE.encode() + b')"}}]}'
    with ScriptedGateway(Scripted(content_type="application/json", pieces=[body])) as server:
        outcome = request_edit(gateway(server.url, stream=False), PAYLOAD)
    assert outcome.reply.images == [IMAGE]
    assert server.requests[0]["headers"]["Accept"] == "application/json"


def test_a_dropped_stream_keeps_the_images_already_received():
    pieces = transcript()[:-2]  # cut after the image, before finish and usage
    with ScriptedGateway(Scripted(pieces=pieces, drop=True)) as server:
        outcome = request_edit(gateway(server.url), PAYLOAD)
    assert outcome.reply.images == [IMAGE]


def test_a_stream_dropped_before_the_image_is_a_named_failure():
    with ScriptedGateway(Scripted(pieces=transcript()[:3], drop=True)) as server:
        with pytest.raises(UpstreamFailure) as caught:
            request_edit(gateway(server.url), PAYLOAD)
    assert caught.value.failure.code == "connection_failed"
    assert not caught.value.retryable  # output had started: the gateway may have charged


def test_silence_from_the_start_is_an_idle_timeout_worth_retrying():
    with ScriptedGateway(Scripted(pieces=[1.0])) as server:
        with pytest.raises(UpstreamFailure) as caught:
            request_edit(gateway(server.url, read_timeout=0.3), PAYLOAD)
    assert caught.value.failure.code == "timeout"
    assert "sent nothing for 0.3 s" in caught.value.failure.detail
    assert caught.value.retryable


def test_silence_after_output_is_a_timeout_not_retried():
    with ScriptedGateway(Scripted(pieces=[*transcript()[:3], 1.0])) as server:
        with pytest.raises(UpstreamFailure) as caught:
            request_edit(gateway(server.url, read_timeout=0.3), PAYLOAD)
    assert caught.value.failure.code == "timeout"
    assert not caught.value.retryable
    assert "排队中" in caught.value.raw_text


def test_the_total_deadline_ends_an_endless_trickle():
    trickle = [piece for _ in range(40) for piece in (*sse(": keep-alive"), 0.05)]
    with ScriptedGateway(Scripted(pieces=trickle)) as server:
        with pytest.raises(UpstreamFailure) as caught:
            request_edit(gateway(server.url, read_timeout=1.0, total_timeout=0.5), PAYLOAD)
    assert caught.value.failure.code == "timeout"
    assert "within 0.5 s" in caught.value.failure.detail


def test_an_html_error_page_is_a_gateway_error():
    page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    with ScriptedGateway(Scripted(status=502, content_type="text/html", pieces=[page])) as server:
        with pytest.raises(UpstreamFailure) as caught:
            request_edit(gateway(server.url), PAYLOAD)
    assert (caught.value.failure.code, caught.value.retryable) == ("gateway_error", True)
    assert "502 Bad Gateway" in caught.value.failure.detail


def test_nothing_listening_is_a_connection_failure():
    with ScriptedGateway() as server:
        url = server.url
    with pytest.raises(UpstreamFailure) as caught:
        request_edit(gateway(url), PAYLOAD)
    assert (caught.value.failure.code, caught.value.retryable) == ("connection_failed", True)


def test_rate_limit_is_retried_after_the_time_the_gateway_asks():
    busy = Scripted(
        status=429,
        content_type="application/json",
        headers={"Retry-After": "0"},
        pieces=['{"error": {"message": "当前分组上游负载已饱和，请稍后再试"}}'.encode()],
    )
    retries, waits = [], []
    with ScriptedGateway(busy, Scripted(pieces=transcript())) as server:
        outcome = request_edit_with_retries(
            gateway(server.url),
            REQUEST,
            on_retry=lambda attempt, total, failure, delay: retries.append(
                (attempt, total, failure.code, delay)
            ),
            sleep=waits.append,
        )
    assert outcome.reply.images == [IMAGE]
    assert retries == [(2, 3, "rate_limited", 0.0)]
    assert waits == [0.0]
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "code"), [(401, "key_rejected"), (402, "quota_exhausted"), (400, "bad_request")]
)
def test_permanent_failures_are_not_retried(status, code):
    refused = Scripted(
        status=status, content_type="application/json", pieces=[b'{"error": {"message": "no"}}']
    )
    with ScriptedGateway(refused) as server, pytest.raises(UpstreamFailure) as caught:
        request_edit_with_retries(gateway(server.url), REQUEST, sleep=lambda s: None)
    assert caught.value.failure.code == code
    assert len(server.requests) == 1


def test_retries_stop_at_the_limit():
    down = Scripted(status=503, content_type="text/plain", pieces=[b"Service Unavailable"])
    with ScriptedGateway(down) as server, pytest.raises(UpstreamFailure) as caught:
        request_edit_with_retries(
            gateway(server.url), REQUEST, max_attempts=3, sleep=lambda s: None
        )
    assert caught.value.failure.code == "gateway_error"
    assert len(server.requests) == 3


def test_backoff_grows_with_jitter_and_honours_retry_after():
    assert retries.backoff_delay(1, retry_after=7) == 7
    assert retries.backoff_delay(1, retry_after=600) == 60
    first = [retries.backoff_delay(1) for _ in range(50)]
    third = [retries.backoff_delay(3) for _ in range(50)]
    assert all(0.5 <= d <= 2 for d in first) and all(0.5 <= d <= 8 for d in third)
    assert len(set(first)) > 1  # jitter


@pytest.mark.parametrize(
    ("header", "seconds"), [("5", 5.0), ("0", 0.0), ("soon", None), (None, None)]
)
def test_retry_after_header(header, seconds):
    assert retries.parse_retry_after(header) == seconds


def test_retry_after_as_a_date():
    assert retries.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_extra_body_is_merged_into_the_request():
    options = gateway("http://x", extra_body={"modalities": ["image", "text"]})
    payload = upstream.build_payload(options, model="m", instruction="i", image_urls=[])
    assert payload["modalities"] == ["image", "text"]


def test_the_gateways_models_are_listed():
    from http.server import BaseHTTPRequestHandler

    class Models(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"data": [{"id": "gemini-2.5-flash-image"}, {"id": "gpt-4o-image"}, {}]}'
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with ScriptedGateway() as server:
        server.RequestHandlerClass = Models
        assert upstream.list_models(gateway(server.url)) == [
            "gemini-2.5-flash-image",
            "gpt-4o-image",
        ]
    assert upstream.list_models(gateway(server.url), timeout=0.5) == []  # gone: no answer


def test_the_chat_transport_sends_the_pictures_as_data_urls_in_order():
    from gateway import transport_for
    from gateway.transport import Picture

    request = ImageRequest(
        "gpt-4o-image",
        "把背景换成蓝天白云",
        [Picture(b"\xff\xd8first", "image/jpeg"), Picture(b"\x89PNGsecond", "image/png")],
    )
    with ScriptedGateway(Scripted(pieces=transcript())) as server:
        outcome = transport_for(gateway(server.url)).send(request)
    assert outcome.reply.images == [IMAGE]
    sent = server.requests[0]
    content = sent["json"]["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "把背景换成蓝天白云"}
    assert [part["image_url"]["url"] for part in content[1:]] == [
        "data:image/jpeg;base64,/9hmaXJzdA==",
        "data:image/png;base64,iVBOR3NlY29uZA==",
    ]
    assert sent["headers"]["Authorization"] == "Bearer sk-test-secret"
    assert outcome.usage == {"prompt_tokens": 10, "completion_tokens": 20}
