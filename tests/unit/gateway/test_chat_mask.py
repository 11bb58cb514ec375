"""A mask through the chat transport: one more picture after the others, white where to change,
and a sentence after the instruction that says what it is; the parameter block stays last."""

import base64
import io
import json

import pytest
from PIL import Image

from gateway.chat.client import ChatTransport
from gateway.config import GatewayConfig
from gateway.masks import MASK_SENTENCE, visible_mask
from gateway.options import ModelStyle, RequestOptions
from gateway.transport import ImageRequest, Picture
from tests.support.scripted_gateway import Scripted, ScriptedGateway, delta, sse

IMAGE = "https://cdn.example/cdn/2026/masked.png"
RESELLER = ModelStyle(size="prompt", n="prompt")
FIRST = Picture(b"\xff\xd8first", "image/jpeg")
SECOND = Picture(b"\x89PNGsecond", "image/png")


def mask_png(width: int = 8, height: int = 4) -> bytes:
    """Transparent (to change) on the left half, opaque (to keep) on the right."""
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    for x in range(width // 2):
        for y in range(height):
            mask.putpixel((x, y), (0, 0, 0, 0))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def sent(request: ImageRequest, **config) -> list[dict]:
    """The user message's content parts, as the gateway received them."""
    answer = Scripted(pieces=sse(delta(f"![result]({IMAGE})"), "data: [DONE]"))
    with ScriptedGateway(answer) as server:
        outcome = ChatTransport(GatewayConfig(server.url, "sk-test", **config)).send(request)
    assert outcome.reply.images == [IMAGE]
    return server.requests[0]["json"]["messages"][0]["content"]


def picture_of(part: dict) -> Image.Image:
    url = part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.partition(",")[2])))


def test_the_mask_goes_as_the_last_picture_white_where_to_change():
    mask = mask_png()
    parts = sent(ImageRequest("gpt-4o-image", "把天空换成晚霞", [FIRST, SECOND], mask=mask))
    assert [part["type"] for part in parts] == ["text", "image_url", "image_url", "image_url"]
    assert parts[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert parts[2]["image_url"]["url"].startswith("data:image/png;base64,iVBOR3Nl")
    shown = picture_of(parts[3]).convert("L")
    assert shown.size == (8, 4)
    assert shown.getpixel((0, 0)) == 255 and shown.getpixel((3, 3)) == 255  # change
    assert shown.getpixel((4, 0)) == 0 and shown.getpixel((7, 3)) == 0  # keep
    assert base64.b64decode(parts[3]["image_url"]["url"].partition(",")[2]) == visible_mask(mask)


def test_the_mask_is_sent_with_the_detail_of_the_other_pictures():
    parts = sent(ImageRequest("m", "x", [FIRST], mask=mask_png()), image_detail="low")
    assert [part["image_url"]["detail"] for part in parts[1:]] == ["low", "low"]


def test_the_instruction_says_what_the_mask_is():
    parts = sent(ImageRequest("gpt-4o-image", "把天空换成晚霞", [FIRST], mask=mask_png()))
    assert parts[0]["text"] == f"把天空换成晚霞\n\n{MASK_SENTENCE}"


def test_the_parameter_block_stays_last_after_the_mask_sentence():
    request = ImageRequest(
        "gpt-4o-image",
        "把天空换成晚霞",
        [FIRST],
        options=RequestOptions(size="16:9", n=2),
        style=RESELLER,
        mask=mask_png(),
    )
    text = sent(request)[0]["text"]
    instruction, sentence, parameters = (
        text.split("\n")[0],
        text.split("\n")[2],
        text.split("\n")[3],
    )
    assert (instruction, sentence) == ("把天空换成晚霞", MASK_SENTENCE)
    assert json.loads(parameters) == {"ratio": "16:9", "n": 2}
    assert text.endswith(parameters)


@pytest.mark.parametrize(
    ("pictures", "parts"), [pytest.param([FIRST], 2, id="no-mask"), pytest.param([], 1, id="none")]
)
def test_without_a_mask_nothing_is_added(pictures, parts):
    content = sent(ImageRequest("m", "make it blue", pictures))
    assert len(content) == parts
    assert content[0]["text"] == "make it blue"


def test_a_mask_with_no_picture_to_go_with_is_not_sent():
    content = sent(ImageRequest("m", "make it blue", [], mask=mask_png()))
    assert content == [{"type": "text", "text": "make it blue"}]
