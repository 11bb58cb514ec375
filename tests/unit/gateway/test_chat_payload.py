import pytest

from gateway.chat.client import build_payload
from gateway.config import GatewayConfig as Gateway
from gateway.config import api_root


@pytest.mark.parametrize(
    "base",
    [
        "https://gw.example",
        "https://gw.example/",
        "https://gw.example/v1",
        "https://gw.example/v1/",
        " https://gw.example/v1 ",
    ],
)
def test_api_root_with_or_without_v1(base):
    assert api_root(base) == "https://gw.example/v1"
    assert Gateway(base, "k").completions_url == "https://gw.example/v1/chat/completions"


def test_payload_follows_the_api_card():
    gateway = Gateway("https://gw.example", "secret", stream=True, image_detail="high")
    payload = build_payload(
        gateway,
        model="gpt-4o-image",
        instruction="把背景换成蓝天白云",
        image_urls=["data:image/jpeg;base64,AAAA", "data:image/png;base64,BBBB"],
    )
    assert payload == {
        "model": "gpt-4o-image",
        "stream": True,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "把背景换成蓝天白云"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/jpeg;base64,AAAA", "detail": "high"},
                    },
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,BBBB", "detail": "high"},
                    },
                ],
            }
        ],
    }


def test_max_tokens_is_sent_only_when_set():
    base = {"model": "m", "instruction": "x", "image_urls": []}
    assert "max_tokens" not in build_payload(Gateway("https://g", "k"), **base)
    payload = build_payload(Gateway("https://g", "k", stream=False, max_tokens=800), **base)
    assert payload["max_tokens"] == 800
    assert payload["stream"] is False


def test_the_key_never_shows_in_a_repr():
    assert "sk-secret" not in repr(Gateway("https://g", "sk-secret"))
