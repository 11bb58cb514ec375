"""The Gemini transport against a scripted gateway over real local sockets."""

import base64
import io
import json

import pytest
from PIL import Image

from gateway.config import GatewayConfig
from gateway.failures import GatewayFailure
from gateway.gemini import client as gemini_client
from gateway.gemini.client import GeminiTransport
from gateway.masks import MASK_SENTENCE
from gateway.options import ModelStyle, RequestOptions
from gateway.transport import ImageRequest, Picture
from tests.support.gemini_gateway import GeminiGateway, Received, recorded
from tests.support.scripted_gateway import Scripted, sse

KEY = "AIzaSyTest+secret/key_0123456789"
QUOTED_KEY = "AIzaSyTest%2Bsecret%2Fkey_0123456789"
MODEL = "gemini-2.5-flash-image"
PNG = (  # an 8×8 blue PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFElEQVR4nGOUq7jDgA0wYRUdtBIA"
    "JIUBgsh9F8MAAAAASUVORK5CYII="
)
PNG_URI = f"data:image/png;base64,{PNG}"
PICTURE = Picture(base64.b64decode(PNG), "image/png")
REQUEST = ImageRequest(MODEL, "make the sky blue", pictures=[PICTURE])
USAGE = {"promptTokenCount": 1301, "candidatesTokenCount": 1290, "totalTokenCount": 2591}


def config(url: str, **options) -> GatewayConfig:
    options = {"read_timeout": 5.0, "total_timeout": 10.0, "stream": False, **options}
    return GatewayConfig(url, KEY, transport="gemini", **options)


def send(url: str, request: ImageRequest = REQUEST, on_progress=None, **options):
    return GeminiTransport(config(url, **options)).send(request, on_progress)


def failing(url: str, request: ImageRequest = REQUEST, **options) -> GatewayFailure:
    with pytest.raises(GatewayFailure) as caught:
        send(url, request, **options)
    return caught.value


def reply(*parts: dict, finish: str | None = "STOP", usage: dict | None = None, **more) -> dict:
    candidate: dict = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict = {"candidates": [candidate], "modelVersion": MODEL, **more}
    if usage is not None:
        body["usageMetadata"] = usage
    return body


def inline(data: str = PNG, mime: str = "image/png") -> dict:
    return {"inlineData": {"mimeType": mime, "data": data}}


def json_reply(body: object, status: int = 200, **script) -> Scripted:
    return Scripted(
        status=status, content_type="application/json", pieces=[json.dumps(body).encode()], **script
    )


def one_request(*responses: Scripted, request: ImageRequest = REQUEST, **options) -> Received:
    with GeminiGateway(*responses or (json_reply(reply(inline())),)) as server:
        send(server.url, request, **options)
    return server.requests[0]


# --- the request ---


def test_the_key_goes_in_the_header_and_the_request_is_generate_content():
    sent = one_request()
    assert sent.path == f"/v1beta/models/{MODEL}:generateContent"
    assert sent.query == {}
    assert sent.headers["x-goog-api-key"] == KEY
    assert sent.headers["accept"] == "application/json"
    assert "authorization" not in sent.headers
    assert sent.json["contents"] == [
        {
            "role": "user",
            "parts": [
                {"text": "make the sky blue"},
                {"inlineData": {"mimeType": "image/png", "data": PNG}},
            ],
        }
    ]
    assert sent.json["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}


def test_relays_that_want_it_get_the_key_in_the_query_and_a_stream_asks_for_sse():
    with GeminiGateway(recorded("image_stream.sse")) as server:
        send(server.url, gemini_key_in="query", stream=True)
    sent = server.requests[0]
    assert sent.path == f"/v1beta/models/{MODEL}:streamGenerateContent"
    assert sent.query == {"alt": ["sse"], "key": [KEY]}
    assert "x-goog-api-key" not in sent.headers
    assert sent.headers["accept"] == "text/event-stream"


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1beta/"])
def test_the_v1beta_root_is_found_whatever_the_base_named(suffix):
    with GeminiGateway(json_reply(reply(inline()))) as server:
        GeminiTransport(config(server.url + suffix)).send(ImageRequest(f"models/{MODEL}", "x"))
    assert server.requests[0].path == f"/v1beta/models/{MODEL}:generateContent"


def test_every_picture_is_a_part_in_order():
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(jpeg, "JPEG")
    second = Picture(jpeg.getvalue(), "image/jpeg")
    sent = one_request(request=ImageRequest(MODEL, "put them together", [PICTURE, second]))
    parts = sent.json["contents"][0]["parts"]
    assert [list(part) for part in parts] == [["text"], ["inlineData"], ["inlineData"]]
    assert parts[2]["inlineData"]["mimeType"] == "image/jpeg"
    assert base64.b64decode(parts[2]["inlineData"]["data"]) == jpeg.getvalue()


def test_a_picture_made_from_words_alone_has_the_instruction_only():
    sent = one_request(request=ImageRequest(MODEL, "a lighthouse at dusk"))
    assert sent.json["contents"][0]["parts"] == [{"text": "a lighthouse at dusk"}]


def test_the_mask_is_shown_as_one_more_picture_with_the_sentence():
    mask = Image.new("RGBA", (8, 8), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 4, 8))  # the left half transparent: the area to change
    kept = io.BytesIO()
    mask.save(kept, "PNG")
    request = ImageRequest(MODEL, "add a boat", [PICTURE], mask=kept.getvalue())
    parts = one_request(request=request).json["contents"][0]["parts"]
    assert len(parts) == 3
    assert parts[0]["text"] == f"add a boat\n\n{MASK_SENTENCE}"
    assert parts[1]["inlineData"]["data"] == PNG
    shown = parts[2]["inlineData"]
    assert shown["mimeType"] == "image/png"
    with Image.open(io.BytesIO(base64.b64decode(shown["data"]))) as picture:
        assert picture.convert("RGB").getpixel((1, 4)) == (255, 255, 255)  # change: white
        assert picture.convert("RGB").getpixel((6, 4)) == (0, 0, 0)  # keep: black


@pytest.mark.parametrize(
    ("size", "style_size", "ratio"),
    [
        ("16:9", "aspect_ratio", "16:9"),
        ("9:16", "aspect_ratio", "9:16"),
        ("1024x768", "aspect_ratio", "4:3"),
        ("1000x617", "aspect_ratio", "3:2"),  # no such ratio in Gemini: the nearest
        ("2048x864", "size", "21:9"),
        ("3:2", "prompt", "3:2"),  # Gemini's API has no prompt block: the size goes here too
        ("", "aspect_ratio", None),
        ("16:9", "none", None),
    ],
)
def test_a_size_goes_as_image_config_aspect_ratio(size, style_size, ratio):
    request = ImageRequest(
        MODEL,
        "wider",
        [PICTURE],
        options=RequestOptions(size=size),
        style=ModelStyle(size=style_size, n="parallel"),
    )
    generation = one_request(request=request).json["generationConfig"]
    assert generation.get("imageConfig") == ({"aspectRatio": ratio} if ratio else None)


@pytest.mark.parametrize(("n_way", "count"), [("parallel", None), ("prompt", None), ("n", 3)])
def test_candidates_are_asked_for_only_when_the_model_makes_several_at_once(n_way, count):
    request = ImageRequest(
        MODEL, "variants", options=RequestOptions(n=3), style=ModelStyle(size="none", n=n_way)
    )
    assert one_request(request=request).json["generationConfig"].get("candidateCount") == count


def test_the_deployments_extra_body_passes_on_only_what_gemini_knows():
    extra = {
        "quality": "high",  # a chat request's field: Gemini would answer it with a 400
        "generationConfig": {"temperature": 0.4, "imageConfig": {"imageSize": "2K"}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    }
    request = ImageRequest(MODEL, "x", options=RequestOptions(size="16:9"))
    sent = one_request(request=request, extra_body=extra, max_tokens=800).json
    assert "quality" not in sent
    assert sent["safetySettings"] == extra["safetySettings"]
    assert sent["generationConfig"] == {
        "temperature": 0.4,
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"imageSize": "2K", "aspectRatio": "16:9"},
    }  # and no maxOutputTokens: a chat-sized limit would cut the picture off


# --- the reply ---


def test_a_whole_reply_gives_its_picture_words_and_usage():
    with GeminiGateway(recorded("image_nonstream.json")) as server:
        outcome = send(server.url)
    assert len(outcome.reply.images) == 1
    assert outcome.reply.images[0].startswith("data:image/png;base64,iVBOR")
    assert (outcome.reply.stage, outcome.reply.progress, outcome.reply.failure) == (
        "done",
        100,
        None,
    )
    assert outcome.usage["candidatesTokenCount"] == 1290
    assert outcome.usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": 1290}]
    assert "blue sky and white clouds" in outcome.raw_text
    assert "iVBOR" not in outcome.raw_text  # the picture's data is elided from the record
    assert "bytes>" in outcome.raw_text


def test_a_stream_reports_progress_and_ends_with_the_picture(monkeypatch):
    monkeypatch.setattr(gemini_client, "PROGRESS_INTERVAL", 0.0)
    events = sse(
        reply({"text": "Sure, "}, finish=None),
        reply({"text": "here it is."}, finish=None),
        reply(inline(), finish=None),
        reply({"text": ""}, usage=USAGE),
    )
    seen = []
    with GeminiGateway(Scripted(pieces=[events[0], 0.05, *events[1:]])) as server:
        outcome = send(server.url, stream=True, on_progress=seen.append)
    assert outcome.reply.images == [PNG_URI]
    assert outcome.usage == USAGE
    stages = [progress.stage for progress in seen]
    assert stages[0] == "generating"
    assert stages[-1] == "done"
    assert seen[-1].images == [PNG_URI]
    assert stages == sorted(stages, key=["generating", "done"].index)
    assert "here it is." in outcome.raw_text


def test_a_picture_in_a_stream_is_told_at_once_whatever_the_interval(monkeypatch):
    monkeypatch.setattr(gemini_client, "PROGRESS_INTERVAL", 3600.0)
    seen = []
    with GeminiGateway(recorded("image_stream.sse")) as server:
        send(server.url, stream=True, on_progress=seen.append)
    assert [progress.stage for progress in seen] == ["generating", "done"]


def test_snake_case_bare_mime_types_and_empty_parts_from_relays():
    parts = [
        {"text": "好的"},
        {"inlineData": {}},
        {"inline_data": {"mime_type": "png", "data": PNG}},
        {"inlineData": {"mimeType": "jpg", "data": PNG}},
        {"inlineData": {"data": PNG}},  # no MIME type at all: the bytes say PNG
        {"inlineData": {"mimeType": "image/png", "data": ""}},
    ]
    with GeminiGateway(json_reply(reply(*parts))) as server:
        outcome = send(server.url)
    assert outcome.reply.images == [PNG_URI, f"data:image/jpeg;base64,{PNG}", PNG_URI]


def test_file_data_links_are_result_links():
    link = "https://storage.relay.example/out/a.png?sig=1"
    parts = [{"fileData": {"mimeType": "image/png", "fileUri": link}}]
    parts.append({"file_data": {"file_uri": "https://storage.relay.example/out/b.png"}})
    parts.append({"fileData": {"mimeType": "video/mp4", "fileUri": "https://x.example/v.mp4"}})
    with GeminiGateway(json_reply(reply(*parts))) as server:
        outcome = send(server.url)
    assert outcome.reply.images == [link, "https://storage.relay.example/out/b.png"]


def test_a_json_array_reply_to_a_stream_request_is_read_too():
    chunks = [reply({"text": "Here."}, finish=None), reply(inline(), usage=USAGE)]
    with GeminiGateway(json_reply(chunks)) as server:
        outcome = send(server.url, stream=True)
    assert outcome.reply.images == [PNG_URI]
    assert outcome.usage == USAGE


def test_an_event_stream_labelled_as_json_is_read_as_one():
    events = b"".join(sse(reply({"text": "Here."}, finish=None), reply(inline())))
    with GeminiGateway(Scripted(content_type="application/json", pieces=[events])) as server:
        outcome = send(server.url, stream=True)
    assert outcome.reply.images == [PNG_URI]


# --- why there is no picture ---

FILTERED = [
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "RECITATION",
]


@pytest.mark.parametrize("reason", FILTERED)
def test_a_filter_finish_reason_is_content_filtered_with_the_categories(reason):
    ratings = [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    ]
    body = reply(finish=reason, usage={"promptTokenCount": 1300})
    body["candidates"][0]["safetyRatings"] = ratings
    with GeminiGateway(json_reply(body)) as server:
        outcome = send(server.url)
    problem = outcome.reply.failure
    assert problem is not None
    assert problem.code == "content_filtered"
    assert problem.detail.startswith(f"{reason} (DANGEROUS_CONTENT)")
    assert "HARASSMENT" not in problem.detail


def test_the_filters_own_message_is_kept():
    with GeminiGateway(recorded("image_safety.json")) as server:
        problem = send(server.url).reply.failure
    assert problem is not None
    assert problem.code == "content_filtered"
    assert "IMAGE_SAFETY (SEXUALLY_EXPLICIT)" in problem.detail
    assert "Prohibited Use policy" in problem.detail


def test_a_blocked_prompt_is_content_filtered():
    body = {"promptFeedback": {"blockReason": "OTHER"}, "usageMetadata": {"promptTokenCount": 9}}
    with GeminiGateway(json_reply(body)) as server:
        problem = send(server.url).reply.failure
    assert problem is not None
    assert (problem.code, problem.detail) == ("content_filtered", "prompt blocked: OTHER")


def test_the_output_limit_is_an_interruption_cut_off():
    with GeminiGateway(json_reply(reply({"text": "Let me"}, finish="MAX_TOKENS"))) as server:
        problem = send(server.url).reply.failure
    assert problem is not None
    assert (problem.code, problem.reason) == ("interrupted", "cut_off")
    assert "Let me" in problem.detail


@pytest.mark.parametrize("reason", ["NO_IMAGE", "IMAGE_OTHER", "OTHER", "STOP"])
def test_no_picture_with_the_models_words_is_a_refusal_in_its_words(reason):
    words = "I can't make that picture, but I could draw a cat."
    with GeminiGateway(json_reply(reply({"text": words}, finish=reason))) as server:
        problem = send(server.url).reply.failure
    assert problem is not None
    assert (problem.code, problem.detail, problem.reason) == ("refused", words, "")


@pytest.mark.parametrize("reason", ["NO_IMAGE", "IMAGE_OTHER", "OTHER"])
def test_no_picture_and_no_words_is_an_empty_refusal_naming_the_reason(reason):
    with GeminiGateway(json_reply(reply(finish=reason, usage=USAGE))) as server:
        problem = send(server.url).reply.failure
    assert problem is not None
    assert (problem.code, problem.reason) == ("refused", "empty")
    assert problem.detail == f"finishReason: {reason}"


@pytest.mark.parametrize(
    "usage",
    [
        USAGE,
        {"candidatesTokenCount": 1400, "candidatesTokensDetails": [{"modality": "TEXT"}]},
        {
            "candidatesTokenCount": 20,
            "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}],
        },
    ],
    ids=["tokens", "tokens-without-image-detail", "image-detail"],
)
def test_a_billed_picture_missing_from_the_reply_is_picture_lost(usage):
    with GeminiGateway(json_reply(reply({"text": ""}, {"inlineData": {}}, usage=usage))) as server:
        problem = send(server.url).reply.failure
    assert problem is not None
    assert problem.code == "picture_lost"


def test_a_filtered_picture_is_not_taken_for_a_lost_one():
    with GeminiGateway(json_reply(reply(finish="IMAGE_SAFETY", usage=USAGE))) as server:
        problem = send(server.url).reply.failure
    assert problem is not None
    assert problem.code == "content_filtered"


def test_few_tokens_and_no_picture_is_not_picture_lost():
    usage = {"promptTokenCount": 1301, "candidatesTokenCount": 12}
    with GeminiGateway(json_reply(reply({"text": "Done!"}, usage=usage))) as server:
        problem = send(server.url).reply.failure
    assert problem is not None
    assert (problem.code, problem.detail) == ("refused", "Done!")


def test_thought_pictures_are_not_results():
    parts = [{"text": "Planning…", "thought": True}, {**inline("R0lGODlh"), "thought": True}]
    with GeminiGateway(json_reply(reply(*parts, inline()))) as server:
        outcome = send(server.url)
    assert outcome.reply.images == [PNG_URI]
