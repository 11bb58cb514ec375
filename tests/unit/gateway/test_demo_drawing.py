"""The demo gateway makes pictures from words, and honours sizes and counts however they are sent.

Through Gaitu's own chat transport and real sockets, as the worker talks to it.
"""

import io
import json
import threading

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat

from gateway.chat.client import ChatTransport
from gateway.config import GatewayConfig
from gateway.demo.asked import read_asked
from gateway.demo.drawing import draw, scene_for
from gateway.demo.server import DemoGateway
from gateway.options import ModelStyle, RequestOptions
from gateway.transport import ImageRequest, Outcome, Picture
from tests.support.factories import image_bytes

RESELLER = ModelStyle(size="prompt", n="prompt")
IMAGES_API = ModelStyle(size="size", n="n", quality=True)
GEMINI = ModelStyle(size="aspect_ratio", n="parallel")


@pytest.fixture(scope="module")
def demo():
    server = DemoGateway(latency=0.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


NO_OPTIONS = RequestOptions()


def ask(demo, words, options=NO_OPTIONS, style=RESELLER, pictures=(), stream=True):
    transport = ChatTransport(GatewayConfig(demo.base_url, "demo-key", stream=stream))
    return transport.send(ImageRequest("gpt-4o-image", words, pictures, options, style))


def pictures_of(outcome: Outcome) -> list[Image.Image]:
    assert outcome.reply.failure is None, outcome.reply.failure
    pictures = []
    for link in outcome.reply.images:
        response = httpx.get(link)
        response.raise_for_status()
        pictures.append(Image.open(io.BytesIO(response.content)).convert("RGB"))
    return pictures


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "non-stream"])
def test_words_alone_make_a_square_picture(demo, stream):
    (picture,) = pictures_of(ask(demo, "a quiet forest", stream=stream))
    assert picture.size == (1024, 1024)
    assert ImageStat.Stat(picture).stddev[1] > 10  # a picture, not one flat colour


@pytest.mark.parametrize(
    ("options", "style", "size"),
    [
        (RequestOptions(size="16:9"), RESELLER, (1024, 576)),
        (RequestOptions(size="2:3"), RESELLER, (683, 1024)),
        (RequestOptions(size="800x600"), RESELLER, (800, 600)),
        (RequestOptions(size="16:9"), IMAGES_API, (1792, 1024)),
        (RequestOptions(size="1280x720"), IMAGES_API, (1280, 720)),
        (RequestOptions(size="9:16"), GEMINI, (576, 1024)),
        (RequestOptions(size="1600x1200"), GEMINI, (1024, 768)),
    ],
    ids=["block-ratio", "block-portrait", "block-pixels", "body-size", "body-pixels",
         "aspect-ratio", "aspect-ratio-of-pixels"],
)  # fmt: skip
def test_the_asked_size_is_honoured_every_way(demo, options, style, size):
    (picture,) = pictures_of(ask(demo, "sky over the sea", options, style))
    assert picture.size == size


@pytest.mark.parametrize(
    ("style", "words", "n"),
    [(RESELLER, "night city", 3), (IMAGES_API, "night city", 3), (GEMINI, "night [demo:n=3]", 1)],
    ids=["block", "body", "directive"],
)
def test_several_results_are_different_pictures(demo, style, words, n):
    pictures = pictures_of(ask(demo, words, RequestOptions(n=n), style))
    assert len(pictures) == 3
    for first, second in [(0, 1), (0, 2), (1, 2)]:
        difference = ImageChops.difference(pictures[first], pictures[second])
        assert max(ImageStat.Stat(difference).mean) > 5


def test_the_transcript_echoes_what_was_asked(demo):
    outcome = ask(demo, "一片森林", RequestOptions(size="16:9", n=2), RESELLER, stream=False)
    echo = outcome.raw_text.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(echo) == {"prompt": "一片森林", "ratio": "16:9", "n": 2}
    assert "生成完成" in outcome.raw_text
    assert len(outcome.reply.images) == 2  # the download twins are no extra results


def test_an_edit_keeps_its_pictures_size_unless_asked(demo):
    photo = Picture(image_bytes((300, 200)), "image/jpeg")
    (kept,) = pictures_of(ask(demo, "mirror", pictures=[photo]))
    assert kept.size == (300, 200)
    (square,) = pictures_of(ask(demo, "mirror", RequestOptions(size="1:1"), pictures=[photo]))
    assert square.size == (300, 300)  # the ratio asked, at the picture's long side
    (sized,) = pictures_of(ask(demo, "mirror", RequestOptions(size="512x256"), IMAGES_API,
                               pictures=[photo]))  # fmt: skip
    assert sized.size == (512, 256)


def test_an_edits_variants_differ(demo):
    photo = Picture(image_bytes((120, 80)), "image/jpeg")
    pictures = pictures_of(ask(demo, "sepia", RequestOptions(n=4), IMAGES_API, [photo]))
    assert len(pictures) == 4
    assert all(picture.size == (120, 80) for picture in pictures)
    assert len({picture.tobytes() for picture in pictures}) == 4


def test_a_refusal_is_still_a_refusal(demo):
    outcome = ask(demo, "a sunset [demo:refuse]")
    assert (outcome.reply.images, outcome.reply.failure.code) == ([], "refused")


@pytest.mark.parametrize(
    ("words", "scene"),
    [
        ("blue sky with clouds", "sky"),
        ("a night sky full of stars", "night"),
        ("a sunset over the sea", "sunset"),
        ("waves on the sea", "sea"),
        ("this season's research", None),  # no "sea" inside other words
        ("森林里的小路", "forest"),
        ("大海", "sea"),
        ("蓝色的天空", "sky"),
        ("snowy mountains", "mountain"),
        ("a cat", None),
    ],
)
def test_the_words_choose_the_scene(words, scene):
    assert scene_for(words) == scene


def test_the_same_words_draw_the_same_picture_and_others_another():
    first = draw("a lighthouse", (256, 256))
    assert first.tobytes() == draw("a lighthouse", (256, 256)).tobytes()
    assert first.tobytes() != draw("a lighthouse", (256, 256), variant=1).tobytes()
    assert first.tobytes() != draw("a windmill", (256, 256)).tobytes()


def test_scenes_look_like_them():
    night = ImageStat.Stat(draw("night", (256, 256)).convert("L")).mean[0]
    sky = ImageStat.Stat(draw("sky", (256, 256))).mean
    assert night < 60
    assert sky[2] > sky[0] + 40  # blue above all


def test_the_block_leaves_the_words_and_the_body_counts_too():
    asked = read_asked({"n": 2, "size": "1024x1024"}, 'a cat\n{"ratio": "3:2"}')
    assert (asked.prompt, asked.ratio, asked.pixels, asked.n) == ("a cat", (3, 2), None, 2)
    assert read_asked({}, "a cat\n{not json}").prompt == "a cat\n{not json}"
    assert read_asked({"n": 2}, "a cat", directive_n="4").n == 4
    assert read_asked({"n": 99}, "a cat").n == 4
