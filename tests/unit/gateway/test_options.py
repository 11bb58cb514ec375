"""Sizes, several results and quality in the chat request, the way each model style takes them."""

import json

import pytest

from gateway.chat.client import ChatTransport, build_payload
from gateway.config import GatewayConfig as Gateway
from gateway.options import STANDARD_PIXELS, ModelStyle, RequestOptions, pixels_for
from gateway.transport import ImageRequest
from tests.support.scripted_gateway import Scripted, ScriptedGateway

GATEWAY = Gateway("https://gw.example", "k")
RESELLER = ModelStyle(size="prompt", n="prompt")
IMAGES_API = ModelStyle(size="size", n="n", quality=True)
GEMINI = ModelStyle(size="aspect_ratio", n="parallel")


def payload(options: RequestOptions, style: ModelStyle, gateway: Gateway = GATEWAY) -> dict:
    return build_payload(
        gateway,
        model="m",
        instruction="画一只猫",
        image_urls=["data:image/png;base64,AAAA"],
        options=options,
        style=style,
    )


def text_of(body: dict) -> str:
    return body["messages"][0]["content"][0]["text"]


def body_fields(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in ("model", "stream", "messages")}


class TestRequestOptions:
    @pytest.mark.parametrize(
        ("size", "ratio"),
        [("", ""), ("16:9", "16:9"), ("1024x768", "4:3"), ("1536x1024", "3:2"), ("800x800", "1:1")],
    )
    def test_a_size_as_a_ratio(self, size, ratio):
        assert RequestOptions(size=size).ratio == ratio

    @pytest.mark.parametrize("size", ["4:3", "100x100", "5000x1000", "big", "1024×768"])
    def test_an_unknown_size_is_refused(self, size):
        with pytest.raises(ValueError, match="unknown size"):
            RequestOptions(size=size)

    def test_what_is_kept_with_an_edit_reads_back(self):
        asked = RequestOptions(size="9:16", n=3, quality="high")
        assert RequestOptions.from_json(asked.as_json()) == asked
        assert RequestOptions().as_json() == {}
        assert RequestOptions.from_json({"n": 9, "size": "1:1"}) == RequestOptions()  # not whole
        assert RequestOptions.from_json(None) == RequestOptions()

    @pytest.mark.parametrize(
        ("size", "pixels"),
        [("1:1", "1024x1024"), ("3:2", "1536x1024"), ("2:3", "1024x1536"),
         ("16:9", "1792x1024"), ("9:16", "1024x1792"), ("1280x720", "1280x720")],
    )  # fmt: skip
    def test_a_ratio_as_a_standard_pixel_size(self, size, pixels):
        assert pixels_for(size) == pixels

    def test_every_standard_size_is_one_a_request_may_carry(self):
        for ratio, pixels in STANDARD_PIXELS.items():
            width, height = map(int, pixels.split("x"))
            assert RequestOptions(size=pixels).size == pixels
            # Landscape stays landscape, portrait portrait, the square square.
            wide, tall = map(int, ratio.split(":"))
            assert (width > height) == (wide > tall) and (width < height) == (wide < tall)

    def test_an_unknown_style_is_refused(self):
        with pytest.raises(ValueError, match="unknown model style"):
            ModelStyle(size="pixels")
        with pytest.raises(ValueError, match="unknown model style"):
            ModelStyle(n="many")
        with pytest.raises(ValueError, match="quality must be true or false"):
            ModelStyle(quality="false")  # type: ignore[arg-type]


class TestPromptStyle:
    def test_no_options_no_block(self):
        body = payload(RequestOptions(), RESELLER)
        assert text_of(body) == "画一只猫"
        assert body_fields(body) == {}

    def test_a_ratio_goes_as_a_block_on_its_own_line(self):
        body = payload(RequestOptions(size="16:9"), RESELLER)
        instruction, block = text_of(body).split("\n")
        assert instruction == "画一只猫"
        assert json.loads(block) == {"ratio": "16:9"}
        assert body_fields(body) == {}

    def test_a_pixel_size_goes_as_a_size(self):
        body = payload(RequestOptions(size="1024x768"), RESELLER)
        assert json.loads(text_of(body).splitlines()[-1]) == {"size": "1024x768"}

    def test_n_joins_the_block_when_the_model_reads_it_there(self):
        body = payload(RequestOptions(size="2:3", n=2), RESELLER)
        assert json.loads(text_of(body).splitlines()[-1]) == {"ratio": "2:3", "n": 2}
        assert "n" not in body

    def test_n_alone_makes_a_block_and_one_picture_none(self):
        assert json.loads(text_of(payload(RequestOptions(n=3), RESELLER)).splitlines()[-1]) == {
            "n": 3
        }
        assert text_of(payload(RequestOptions(n=1), RESELLER)) == "画一只猫"

    def test_a_parallel_model_has_no_n_in_its_block(self):
        style = ModelStyle(size="prompt", n="parallel")
        body = payload(RequestOptions(size="1:1", n=3), style)
        assert json.loads(text_of(body).splitlines()[-1]) == {"ratio": "1:1"}
        assert "n" not in body

    def test_the_pictures_stay_after_the_text(self):
        content = payload(RequestOptions(size="16:9"), RESELLER)["messages"][0]["content"]
        assert [part["type"] for part in content] == ["text", "image_url"]


class TestBodyStyles:
    def test_size_n_and_quality_in_the_body(self):
        body = payload(RequestOptions(size="3:2", n=2, quality="high"), IMAGES_API)
        assert text_of(body) == "画一只猫"
        assert body_fields(body) == {"size": "1536x1024", "n": 2, "quality": "high"}

    def test_a_pixel_size_goes_as_it_is(self):
        assert payload(RequestOptions(size="1280x720"), IMAGES_API)["size"] == "1280x720"

    def test_quality_only_where_the_model_takes_it(self):
        style = ModelStyle(size="size", n="n", quality=False)
        assert "quality" not in payload(RequestOptions(quality="low"), style)
        assert "quality" not in payload(RequestOptions(), IMAGES_API)

    def test_an_aspect_ratio_in_the_image_config(self):
        body = payload(RequestOptions(size="9:16", n=4), GEMINI)
        assert body_fields(body) == {"image_config": {"aspect_ratio": "9:16"}}
        assert text_of(body) == "画一只猫"

    def test_a_pixel_size_reduced_to_its_ratio(self):
        body = payload(RequestOptions(size="1600x1200"), GEMINI)
        assert body["image_config"] == {"aspect_ratio": "4:3"}

    def test_a_model_without_sizes_is_sent_none(self):
        body = payload(RequestOptions(size="16:9"), ModelStyle(size="none", n="parallel"))
        assert text_of(body) == "画一只猫"
        assert body_fields(body) == {}


class TestExtraBody:
    def test_the_edits_own_choice_wins_over_the_deployments(self):
        deployment = {"quality": "low", "size": "1024x1024", "modalities": ["image", "text"]}
        gateway = Gateway("https://g", "k", extra_body=deployment)
        body = payload(RequestOptions(size="16:9", quality="high"), IMAGES_API, gateway)
        assert (body["quality"], body["size"]) == ("high", "1792x1024")
        assert body["modalities"] == ["image", "text"]

    def test_the_deployments_default_stays_when_the_edit_asks_nothing(self):
        gateway = Gateway("https://g", "k", extra_body={"quality": "low"})
        assert payload(RequestOptions(), IMAGES_API, gateway)["quality"] == "low"

    def test_an_image_config_of_both_is_merged(self):
        deployment = {"image_config": {"aspect_ratio": "1:1", "image_size": "2K"}}
        gateway = Gateway("https://g", "k", extra_body=deployment)
        body = payload(RequestOptions(size="16:9"), GEMINI, gateway)
        assert body["image_config"] == {"aspect_ratio": "16:9", "image_size": "2K"}
        assert gateway.extra_body["image_config"]["aspect_ratio"] == "1:1"  # left as it was


def test_the_transport_sends_the_requests_options():
    """Through ChatTransport.send and a real socket: what the gateway receives."""
    reply = {"choices": [{"index": 0, "message": {"content": "![a](https://x.example/a.png)"}}]}
    with ScriptedGateway(
        Scripted(content_type="application/json", pieces=[json.dumps(reply).encode()])
    ) as server:
        request = ImageRequest("gpt-image-1", "a cat", (), RequestOptions("2:3", 2, "medium"),
                               IMAGES_API)  # fmt: skip
        outcome = ChatTransport(Gateway(server.url, "k", stream=False)).send(request)
    assert outcome.reply.images == ["https://x.example/a.png"]
    sent = server.requests[0]["json"]
    assert (sent["size"], sent["n"], sent["quality"]) == ("1024x1536", 2, "medium")
    assert sent["messages"][0]["content"] == [{"type": "text", "text": "a cat"}]
