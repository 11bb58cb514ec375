"""The chat request body written as it is sent: the same JSON a body built whole is, with the
pictures read from their files in slices."""

import base64
import json

import httpx

from gateway.chat import body as body_module
from gateway.chat.body import JsonWithPictures
from gateway.chat.client import ChatTransport
from gateway.config import GatewayConfig
from gateway.transport import ImageRequest, Picture

# Not a multiple of the slice: the last slice is short, and padded.
PHOTO = bytes(range(256)) * 1000 + b"\xff\xd8end"


def test_the_body_is_the_json_with_the_data_urls_in_place(monkeypatch):
    monkeypatch.setattr(body_module, "SLICE", 3 * 1000)  # many slices for a small picture
    held = Picture.held(PHOTO, "image/jpeg")
    body = JsonWithPictures([held, Picture(b"\x89PNG", "image/png")])
    payload = {"model": "m", "parts": [body.url_for(0), "é", body.url_for(1)]}
    sent = b"".join(body.encode(payload))
    expected = {
        "model": "m",
        "parts": [
            "data:image/jpeg;base64," + base64.b64encode(PHOTO).decode(),
            "é",
            "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode(),
        ],
    }
    assert json.loads(sent) == expected
    assert len(sent) == len(body) == int(body.headers["Content-Length"])
    assert b"".join(body) == sent  # a retry sends the same again
    held.close()


def test_a_held_picture_reads_back_whole_from_its_file():
    held = Picture.held(PHOTO, "image/jpeg")
    assert not isinstance(held.source, bytes)
    assert held.size == len(PHOTO)
    assert held.data == PHOTO
    assert b"".join(held.chunks(7)) == PHOTO
    held.close()


def test_the_chat_transport_sends_a_held_picture_with_a_content_length():
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"choices": [{"message": {"content": "![r](https://x/r.png)"}}]}
        )

    config = GatewayConfig(base_url="http://gateway.test/v1", api_key="k", stream=False)
    held = Picture.held(PHOTO, "image/jpeg")
    request = ImageRequest("gpt-4o-image", "mirror", [held])
    with httpx.Client(transport=httpx.MockTransport(gateway)) as client:
        outcome = ChatTransport(config).send(request, client=client)
    held.close()
    assert outcome.reply.images == ["https://x/r.png"]
    (sent,) = seen
    assert "transfer-encoding" not in sent.headers
    assert int(sent.headers["content-length"]) == len(sent.content)
    parts = json.loads(sent.content)["messages"][0]["content"]
    assert (
        parts[1]["image_url"]["url"] == "data:image/jpeg;base64," + base64.b64encode(PHOTO).decode()
    )
