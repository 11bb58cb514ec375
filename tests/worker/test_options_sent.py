"""What the worker sends for an edit's options, model by model, over real local sockets; and
several results of a model that makes one a request, asked side by side.

The gateway here answers each request by the order it arrived in (under a lock: requests
sent side by side arrive at once), and serves the pictures its replies link to.
"""

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from PIL import Image

from editor.models import Edit
from gateway.options import RequestOptions
from tests.support.factories import image_bytes
from worker import run
from worker.run import perform_edit

COLOURS = [(200, 40, 40), (40, 160, 60), (30, 60, 210), (230, 200, 40), (120, 40, 160)]

Answer = Callable[[int, dict, "_Handler"], None]


class RecordingGateway(ThreadingHTTPServer):
    """Answers the k-th request (from 0, in the order they arrived): answer(k, body, handler)."""

    daemon_threads = True

    def __init__(self, answer: Answer):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.release = threading.Event()  # for answers that hold their reply back
        self.cut_off = 0  # replies the client closed before they ended
        self.held_to_the_end = 0  # held replies nobody released nor closed
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def link(self, number: int) -> str:
        return f"{self.url}/img/{number}.png"

    def wait_for_requests(self, count: int) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.bodies) >= count, timeout=30)

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: RecordingGateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        number = int(self.path.removeprefix("/img/").removesuffix(".png"))
        body = image_bytes((40, 30), "PNG", color=COLOURS[number % len(COLOURS)])
        self.send_bytes(200, body, "image/png")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.arrived:
            arrival = len(self.server.bodies)
            self.server.bodies.append(body)
            self.server.arrived.notify_all()
        self.server.answer(arrival, body, self)
        self.close_connection = True

    def send_bytes(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: dict) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), "application/json")

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def content(self, text: str) -> None:
        """A streamed chunk of the assistant's text."""
        self.event(f"data: {json.dumps({'choices': [{'delta': {'content': text}}]})}\n\n")

    def event(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def pictures_reply(handler: _Handler, numbers: list[int]) -> None:
    """A reseller's reply with one picture for each number; 100 completion tokens."""
    text = "\n".join(f"![gen]({handler.server.link(number)})" for number in numbers)
    handler.send_json(200, {
        "choices": [{"index": 0, "message": {"content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 100, "total_tokens": 110},
    })  # fmt: skip


def quota_error(handler: _Handler) -> None:
    handler.send_json(402, {"error": {"message": "用户额度不足 (request id: test)",
                                      "code": "insufficient_user_quota"}})  # fmt: skip


def one_picture_each(arrival: int, body: dict, handler: _Handler) -> None:
    pictures_reply(handler, [arrival])


def as_many_as_asked(arrival: int, body: dict, handler: _Handler) -> None:
    block = body["messages"][0]["content"][0]["text"].splitlines()[-1]
    count = body.get("n") or (json.loads(block).get("n", 1) if block.startswith("{") else 1)
    pictures_reply(handler, list(range(count)))


@pytest.fixture
def gateway(settings):
    """Edits run against a RecordingGateway with the given answer."""
    started: list[RecordingGateway] = []

    def gateway(answer: Answer, stream: bool = False) -> RecordingGateway:
        server = RecordingGateway(answer)
        started.append(server)
        settings.GAITU_DEMO = False
        settings.GAITU_API_BASE = server.url
        settings.GAITU_API_KEY = "sk-test-not-real"
        settings.GAITU_STREAM = stream
        # What is sent through chat completions, for every model (gpt-image-1 would
        # otherwise go through the images API: gateway/transports.py).
        settings.GAITU_TRANSPORT = "chat"
        return server

    yield gateway
    for server in started:
        server.stop()


def started_edit(owner, model: str, options: RequestOptions, instruction: str = "a cat") -> Edit:
    edit = Edit.objects.create(
        owner=owner, instruction=instruction, model=model, options=options.as_json()
    )
    assert edit.start(worker="test:1")
    return edit


def finished(edit: Edit) -> Edit:
    perform_edit(edit)
    edit.refresh_from_db()
    return edit


def result_colours(edit: Edit) -> list[tuple[int, int, int]]:
    colours = []
    for result in edit.results.order_by("position"):
        with result.file.open("rb") as stored:
            colours.append(Image.open(stored).convert("RGB").getpixel((39, 29)))
    return colours


def near(colour: tuple[int, int, int], other: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 12 for a, b in zip(colour, other, strict=True))


def test_a_reseller_model_gets_the_parameter_block(owner, gateway):
    server = gateway(as_many_as_asked)
    edit = finished(started_edit(owner, "gpt-4o-image", RequestOptions(size="16:9", n=2)))
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    (sent,) = server.bodies  # one request: the model makes both pictures
    instruction, block = sent["messages"][0]["content"][0]["text"].split("\n")
    assert (instruction, json.loads(block)) == ("a cat", {"ratio": "16:9", "n": 2})
    assert not {"size", "n", "image_config", "quality"} & sent.keys()
    assert edit.results.count() == 2


def test_an_images_model_gets_size_n_and_quality_in_the_body(owner, gateway):
    server = gateway(as_many_as_asked)
    options = RequestOptions(size="3:2", n=2, quality="high")
    edit = finished(started_edit(owner, "gpt-image-1", options))
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    (sent,) = server.bodies
    assert (sent["size"], sent["n"], sent["quality"]) == ("1536x1024", 2, "high")
    assert sent["messages"][0]["content"] == [{"type": "text", "text": "a cat"}]
    assert edit.results.count() == 2


def test_an_edit_with_no_options_sends_none(owner, gateway):
    server = gateway(as_many_as_asked)
    edit = finished(started_edit(owner, "gpt-image-1", RequestOptions()))
    assert edit.status == Edit.Status.SUCCEEDED
    (sent,) = server.bodies
    assert not {"size", "n", "image_config", "quality"} & sent.keys()
    assert sent["messages"][0]["content"][0]["text"] == "a cat"


def test_several_results_of_a_one_picture_model_are_asked_side_by_side(owner, gateway):
    server = gateway(one_picture_each)
    model = "gemini-2.5-flash-image"
    edit = finished(started_edit(owner, model, RequestOptions(size="16:9", n=3)))
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    assert len(server.bodies) == 3
    for sent in server.bodies:  # each asks for one picture, of the size asked
        assert sent["image_config"] == {"aspect_ratio": "16:9"}
        assert "n" not in sent
    colours = result_colours(edit)
    assert len(colours) == 3
    for arrival in range(3):  # every request's picture, once each
        assert sum(near(colour, COLOURS[arrival]) for colour in colours) == 1
    assert edit.usage["completion_tokens"] == 300
    assert edit.raw_reply.count("--- request") == 3


def test_one_result_of_a_one_picture_model_is_one_request(owner, gateway):
    server = gateway(one_picture_each)
    edit = finished(started_edit(owner, "nano-banana", RequestOptions(n=1)))
    assert edit.status == Edit.Status.SUCCEEDED
    assert len(server.bodies) == 1
    assert "--- request" not in edit.raw_reply  # the reply as it came


def test_the_pictures_of_the_requests_that_worked_are_kept(owner, gateway):
    def second_fails(arrival: int, body: dict, handler: _Handler) -> None:
        if arrival == 1:
            quota_error(handler)
        else:
            pictures_reply(handler, [arrival])

    server = gateway(second_fails)
    edit = finished(started_edit(owner, "gemini-2.5-flash-image", RequestOptions(n=3)))
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    assert len(server.bodies) == 3  # a quota error is not tried again
    colours = result_colours(edit)
    assert len(colours) == 2
    assert not any(near(colour, COLOURS[1]) for colour in colours)
    assert "1 of 3 requests failed" in edit.raw_reply
    assert "quota_exhausted" in edit.raw_reply
    assert edit.usage["completion_tokens"] == 200


def test_when_every_request_fails_the_edit_fails_as_the_first(owner, gateway):
    def refusing(arrival: int, body: dict, handler: _Handler) -> None:
        if arrival == 0:
            quota_error(handler)
        else:
            message = {"content": "I can't draw that."}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            handler.send_json(200, {"choices": [choice]})

    gateway(refusing)
    edit = finished(started_edit(owner, "dall-e-3", RequestOptions(n=2)))
    assert edit.status == Edit.Status.FAILED
    # As the first request made failed, whichever of the two answers it got.
    first, second = edit.raw_reply.split("--- request 2 of 2 ---")
    assert f"[failed: {edit.error_code}: " in first
    assert {edit.error_code, second.split("[failed: ")[1].split(":")[0]} == {
        "quota_exhausted",
        "refused",
    }
    assert "I can't draw that." in edit.raw_reply
    assert edit.results.count() == 0


def test_words_alone_against_the_demo_give_a_picture_of_the_asked_size(owner, settings):
    assert settings.GAITU_DEMO  # no key in the tests: the built-in demo gateway
    edit = finished(started_edit(owner, "gpt-4o-image", RequestOptions(size="16:9", n=2),
                                 instruction="a sunset over the sea"))  # fmt: skip
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    assert edit.is_generation
    assert [(result.width, result.height) for result in edit.results.all()] == [(1024, 576)] * 2
    assert '"ratio": "16:9"' in edit.raw_reply  # the demo echoes the block it read


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [("gemini-2.5-flash-image", "9:16", (576, 1024)), ("gpt-image-1", "2:3", (1024, 1536)),
     ("gpt-4o-image", "", (1024, 1024))],
)  # fmt: skip
def test_every_style_of_size_reaches_the_demo(owner, model, size, expected):
    edit = finished(started_edit(owner, model, RequestOptions(size=size, n=2)))
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    assert [(result.width, result.height) for result in edit.results.all()] == [expected] * 2
    assert edit.sources.count() == 0


class TestSideBySideWhileRunning:
    """perform_edit in a thread of its own, as a worker runs it, while the test watches."""

    @pytest.fixture
    def running(self, transactional_db):
        threads: list[threading.Thread] = []

        def running(edit: Edit) -> threading.Thread:
            def work() -> None:
                try:
                    perform_edit(Edit.objects.get(pk=edit.pk))
                finally:
                    connection.close()

            thread = threading.Thread(target=work, daemon=True)
            thread.start()
            threads.append(thread)
            return thread

        yield running
        for thread in threads:
            thread.join(timeout=60)

    @staticmethod
    def held(percents: list[int]) -> Answer:
        """Streamed answers that say their percent, then hold until released (or cut off)."""

        def answer(arrival: int, body: dict, handler: _Handler) -> None:
            handler.start_stream()
            try:
                handler.content(f"> 🏃 进度 {percents[arrival]}..\n")
                for _ in range(600):  # a minute at most, then it gives up
                    if handler.server.release.wait(0.1):
                        break
                    handler.event(": keep-alive\n\n")  # a closed client shows as an error here
                else:
                    with handler.server.lock:
                        handler.server.held_to_the_end += 1
                    return
                handler.content(f"> ✅ 生成完成\n![gen]({handler.server.link(arrival)})\n")
                handler.event("data: [DONE]\n\n")
                handler.event("")
            except (BrokenPipeError, ConnectionResetError):
                with handler.server.lock:
                    handler.server.cut_off += 1

        return answer

    def test_progress_is_the_highest_of_all_requests(self, owner, gateway, running):
        server = gateway(self.held([20, 70, 45]), stream=True)
        edit = started_edit(owner, "gemini-2.5-flash-image", RequestOptions(n=3))
        worker = running(edit)
        server.wait_for_requests(3)
        shown = wait_until(lambda: Edit.objects.get(pk=edit.pk).progress == 70)
        assert shown, Edit.objects.get(pk=edit.pk).progress
        server.release.set()
        worker.join(timeout=60)
        edit.refresh_from_db()
        assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
        assert edit.results.count() == 3

    def test_cancel_closes_every_request_at_once(self, owner, gateway, running, monkeypatch):
        monkeypatch.setattr(run.EditWatch, "INTERVAL", 0.1)
        server = gateway(self.held([10, 10, 10, 10]), stream=True)
        edit = started_edit(owner, "flux-kontext-pro", RequestOptions(n=4))
        worker = running(edit)
        server.wait_for_requests(4)
        assert edit.cancel()
        # Never released: only the watch closing every connection ends the run.
        worker.join(timeout=90)
        assert not worker.is_alive()
        assert wait_until(lambda: server.cut_off == 4), server.cut_off
        assert server.held_to_the_end == 0
        edit.refresh_from_db()
        assert (edit.status, edit.results.count(), edit.result_links) == ("canceled", 0, [])


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
