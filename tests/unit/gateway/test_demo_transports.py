"""The demo gateway speaks the images API and Gemini's generateContent besides chat, masks included.

Plain httpx over real loopback sockets, the requests written out as each API documents them, so
the demo is checked against the APIs themselves and not against Gaitu's own clients.
"""

import base64
import io
import json
import re
import threading
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from gateway.demo.server import DemoGateway, ensure_running
from gateway.masks import MASK_SENTENCE, visible_mask
from tests.support.factories import image_bytes

MODELS = ("gpt-image-1", "gemini-2.5-flash-image", "gpt-4o-image")
BEARER = {"Authorization": "Bearer demo"}
GOOGLE_KEY = {"x-goog-api-key": "demo"}
SIZE = (96, 64)
AREA = (16, 16, 64, 48)  # the box a mask opens for change


@pytest.fixture(scope="module")
def demo():
    server = DemoGateway(models=MODELS, latency=0.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def http(demo):
    with httpx.Client(base_url=demo.base_url, timeout=30) as client:
        yield client


def source_png(size=SIZE) -> bytes:
    return image_bytes(size, fmt="PNG")


def mask_png(size=SIZE, box=AREA) -> bytes:
    """OpenAI's form: opaque where to keep, transparent inside the box."""
    mask = Image.new("RGBA", size, (255, 255, 255, 255))
    ImageDraw.Draw(mask).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=(0, 0, 0, 0))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def picture(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        return opened


def assert_changed_only_inside(result: Image.Image, original_png: bytes, box=AREA):
    original = picture(original_png).convert("RGB")
    result = result.convert("RGB")
    assert result.size == original.size
    keep = Image.new("L", original.size, 255)
    ImageDraw.Draw(keep).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=0)
    black = Image.new("RGB", original.size)
    outside = Image.composite(result, black, keep), Image.composite(original, black, keep)
    assert outside[0].tobytes() == outside[1].tobytes()  # pixel for pixel the original's
    inside = ImageChops.difference(result.crop(box), original.crop(box))
    assert min(ImageStat.Stat(inside).mean) > 20  # and inverted where the mask opened it


# -- the images API -------------------------------------------------------------------------


def edit(http, prompt, *, images=None, field="image[]", mask=None, headers=BEARER, **fields):
    files = [
        (field, (f"p{n}.png", data, "image/png")) for n, data in enumerate(images or [source_png()])
    ]
    if mask is not None:
        files.append(("mask", ("mask.png", mask, "image/png")))
    data = {"model": "gpt-image-1", "prompt": prompt, **{k: str(v) for k, v in fields.items()}}
    return http.post("/v1/images/edits", data=data, files=files, headers=headers)


def iter_events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """A stream's server-sent events as (event name, data), as they come."""
    name = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))
            name = ""


def events_of(response: httpx.Response) -> list[tuple[str, dict]]:
    return list(iter_events(response))


def test_an_edit_answers_b64_json_as_gpt_image_1_does(http):
    response = edit(http, "invert")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["created"], int)
    (item,) = body["data"]
    result = picture(base64.b64decode(item["b64_json"]))
    assert (result.format, result.size) == ("PNG", SIZE)
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0


@pytest.mark.parametrize("endpoint", ["edits", "generations"])
def test_response_format_url_is_a_link_to_the_picture(http, endpoint):
    if endpoint == "edits":
        response = edit(http, "mirror", response_format="url", output_format="jpeg")
    else:
        response = http.post("/v1/images/generations", headers=BEARER, json={
            "model": "gpt-image-1", "prompt": "a sunset", "response_format": "url",
        })  # fmt: skip
    assert response.status_code == 200, response.text
    (item,) = response.json()["data"]
    assert "b64_json" not in item
    download = httpx.get(item["url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == (
        "image/jpeg" if endpoint == "edits" else "image/png"
    )
    picture(download.content)


def test_a_generation_honours_size_and_n(http):
    response = http.post("/v1/images/generations", headers=BEARER, json={
        "model": "gpt-image-1", "prompt": "night sky", "size": "1536x1024", "n": 2,
    })  # fmt: skip
    pictures = [picture(base64.b64decode(item["b64_json"])) for item in response.json()["data"]]
    assert [each.size for each in pictures] == [(1536, 1024)] * 2
    assert pictures[0].tobytes() != pictures[1].tobytes()
    assert response.json()["size"] == "1536x1024"


def test_an_edit_honours_size_and_n(http):
    response = edit(http, "sepia", size="512x256", n=3)
    pictures = [picture(base64.b64decode(item["b64_json"])) for item in response.json()["data"]]
    assert [each.size for each in pictures] == [(512, 256)] * 3
    assert len({each.tobytes() for each in pictures}) == 3


@pytest.mark.parametrize("field", ["image[]", "image"])
def test_the_first_of_several_pictures_is_the_one_edited(http, field):
    response = edit(http, "grayscale", images=[source_png((80, 40)), source_png((40, 80))],
                    field=field)  # fmt: skip
    (item,) = response.json()["data"]
    assert picture(base64.b64decode(item["b64_json"])).size == (80, 40)


@pytest.mark.parametrize("endpoint", ["edits", "generations"])
def test_a_streamed_answer_sends_partial_pictures_then_the_picture(http, endpoint):
    if endpoint == "edits":
        files = [("image[]", ("p.png", source_png(), "image/png"))]
        request = http.build_request("POST", "/v1/images/edits", headers=BEARER, files=files,
                                     data={"prompt": "blur", "stream": "true"})  # fmt: skip
        kind = "image_edit"
    else:
        request = http.build_request("POST", "/v1/images/generations", headers=BEARER, json={
            "prompt": "forest", "stream": True, "partial_images": 1, "size": "1024x1536",
        })  # fmt: skip
        kind = "image_generation"
    response = http.send(request, stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = events_of(response)
    names = [name for name, _ in events]
    partials = 2 if endpoint == "edits" else 1
    assert names == [f"{kind}.partial_image"] * partials + [f"{kind}.completed"]
    assert [data["type"] for _, data in events] == names
    assert [data["partial_image_index"] for _, data in events[:-1]] == list(range(partials))
    final = events[-1][1]
    size = SIZE if endpoint == "edits" else (1024, 1536)
    assert picture(base64.b64decode(final["b64_json"])).size == size
    assert final["usage"]["output_tokens"] > 0


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_the_images_api_mask_keeps_everything_outside_it(http, stream):
    original = source_png()
    response = edit(http, "invert", mask=mask_png(), stream=stream)
    assert response.status_code == 200, response.text
    encoded = (
        events_of(response)[-1][1]["b64_json"] if stream else response.json()["data"][0]["b64_json"]
    )
    assert_changed_only_inside(picture(base64.b64decode(encoded)), original)


def test_a_mask_of_another_size_is_refused_as_openai_does(http):
    response = edit(http, "invert", mask=mask_png((48, 32), (0, 0, 10, 10)))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "Invalid mask image format - mask size does not match image size"
    assert (error["type"], error["param"]) == ("invalid_request_error", "mask")


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"size": "123x45"}, "size"),
        ({"n": "0"}, "n"),
        ({"response_format": "gif"}, "response_format"),
    ],
)
def test_bad_parameters_are_400s_naming_them(http, fields, param):
    response = edit(http, "invert", **fields)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_an_edit_without_a_picture_is_refused(http):
    response = http.post("/v1/images/edits", headers=BEARER, files={"prompt": (None, "invert")})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Missing required parameter: 'image'."


def test_the_images_api_wants_a_key(http):
    response = edit(http, "invert", headers={})
    assert response.status_code == 401
    assert "You didn't provide an API key" in response.json()["error"]["message"]
    generated = http.post("/v1/images/generations", json={"prompt": "a cat"})
    assert generated.status_code == 401


@pytest.mark.parametrize(
    ("directive", "status", "says"),
    [
        ("[demo:fail=429]", 429, "饱和"),
        ("[demo:fail=503]", 503, "无可用渠道"),
        ("[demo:fail=401]", 401, "Incorrect API key provided: demo."),
        ("[demo:refuse]", 400, "content_policy_violation"),
        ("[demo:moderation]", 400, "moderation_blocked"),
        ("[demo:error]", 500, "server_error"),
        ("[demo:fail=502]", 502, "Bad Gateway"),
    ],
)
def test_directives_fail_the_images_api_its_own_way(http, directive, status, says):
    response = edit(http, f"invert {directive}")
    assert response.status_code == status
    assert says in response.text
    if status != 502:
        assert set(response.json()["error"]) >= {"message", "type", "code"}


def test_n_directive_and_broken_links_on_the_images_api(http):
    response = edit(http, "invert [demo:n=2] [demo:badlink]", response_format="url")
    links = [item["url"] for item in response.json()["data"]]
    assert len(links) == 2
    assert all(httpx.get(link).status_code == 404 for link in links)


def test_a_dropped_stream_ends_before_the_picture(http):
    data = {"prompt": "invert [demo:drop]", "stream": "true"}
    files = [("image[]", ("p.png", source_png(), "image/png"))]
    seen: list[tuple[str, dict]] = []
    with http.stream(
        "POST", "/v1/images/edits", headers=BEARER, data=data, files=files
    ) as response:
        with pytest.raises(httpx.RemoteProtocolError):
            seen.extend(iter_events(response))  # what came before the cut stays in
    assert [name for name, _ in seen] == ["image_edit.partial_image"] * 2


def test_a_dropped_answer_is_cut_halfway(http):
    with pytest.raises(httpx.RemoteProtocolError):
        edit(http, "invert [demo:drop]")


def test_a_stalled_answer_sends_its_headers_then_nothing(demo):
    # Without the stall the headers themselves would wait the five seconds.
    files = [("image[]", ("p.png", source_png(), "image/png"))]
    data = {"prompt": "invert [demo:stall] [demo:latency=5]"}
    with httpx.Client(base_url=demo.base_url, timeout=httpx.Timeout(10, read=1.5)) as client:
        with client.stream(
            "POST", "/v1/images/edits", headers=BEARER, data=data, files=files
        ) as response:
            assert response.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                response.read()


# -- Gemini's generateContent ---------------------------------------------------------------


def inline(data: bytes, snake=False) -> dict:
    if snake:
        return {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(data).decode()}}
    return {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()}}


def gemini_body(text, pictures=(), ratio="", snake=False) -> dict:
    parts = [{"text": text}, *(inline(data, snake) for data in pictures)]
    config: dict = {"responseModalities": ["TEXT", "IMAGE"]}
    if ratio:
        config["imageConfig"] = {"aspectRatio": ratio}
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}


def generate(http, body, model="gemini-2.5-flash-image", headers=GOOGLE_KEY, params=None):
    return http.post(f"/v1beta/models/{model}:generateContent", json=body, headers=headers,
                     params=params)  # fmt: skip


def stream_chunks(http, body, model="gemini-2.5-flash-image") -> list[dict]:
    response = http.post(f"/v1beta/models/{model}:streamGenerateContent", json=body,
                         params={"alt": "sse", "key": "demo"})  # fmt: skip
    assert response.headers["content-type"].startswith("text/event-stream")
    return [json.loads(line.removeprefix("data: ")) for line in response.iter_lines()
            if line.startswith("data: ")]  # fmt: skip


def pictures_in(parts: list[dict]) -> list[Image.Image]:
    found = [part["inlineData"] for part in parts if "inlineData" in part]
    assert all(each["mimeType"] == "image/png" for each in found)
    return [picture(base64.b64decode(each["data"])) for each in found]


def test_generate_content_answers_text_and_a_picture(http):
    response = generate(http, gemini_body("sepia", [source_png()]))
    assert response.status_code == 200
    body = response.json()
    (candidate,) = body["candidates"]
    assert candidate["finishReason"] == "STOP"
    parts = candidate["content"]["parts"]
    assert "text" in parts[0]
    (result,) = pictures_in(parts)
    assert result.size == SIZE
    usage = body["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


def test_stream_generate_content_sends_progress_then_the_picture(http):
    chunks = stream_chunks(http, gemini_body("a sunset over the sea", ratio="16:9"))
    parts = [chunk["candidates"][0]["content"]["parts"] for chunk in chunks]
    assert all("text" in part for part in parts[0] + parts[1])  # progress words first
    (result,) = pictures_in(parts[-1])
    assert result.size == (1024, 576)
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert all("finishReason" not in chunk["candidates"][0] for chunk in chunks[:-1])
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] > 0


def test_stream_generate_content_without_sse_is_a_json_array(http):
    response = http.post("/v1beta/models/gemini-2.5-flash-image:streamGenerateContent",
                         json=gemini_body("sky"), headers=GOOGLE_KEY)  # fmt: skip
    chunks = response.json()
    assert isinstance(chunks, list)
    assert pictures_in(chunks[-1]["candidates"][0]["content"]["parts"])


@pytest.mark.parametrize(
    ("ratio", "pictures", "size"),
    [("", [], (1024, 1024)), ("9:16", [], (576, 1024)),
     ("1:1", [source_png((300, 200))], (300, 300)), ("", [source_png((300, 200))], (300, 200))],
    ids=["default", "portrait", "edit-square", "edit-kept"],
)  # fmt: skip
def test_the_aspect_ratio_is_honoured(http, ratio, pictures, size):
    body = generate(http, gemini_body("mirror", pictures, ratio)).json()
    (result,) = pictures_in(body["candidates"][0]["content"]["parts"])
    assert result.size == size


def test_an_unknown_aspect_ratio_is_invalid(http):
    response = generate(http, gemini_body("sky", ratio="7:3"))
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_snake_case_parts_and_the_n_directive(http):
    body = generate(http, gemini_body("invert [demo:n=2]", [source_png()], snake=True)).json()
    results = pictures_in(body["candidates"][0]["content"]["parts"])
    assert [each.size for each in results] == [SIZE, SIZE]
    assert results[0].tobytes() != results[1].tobytes()


@pytest.mark.parametrize(
    ("headers", "params", "status"),
    [({}, None, 403), (GOOGLE_KEY, None, 200), ({}, {"key": "demo"}, 200)],
    ids=["none", "header", "query"],
)
def test_gemini_wants_a_key_in_a_header_or_the_query(http, headers, params, status):
    response = generate(http, gemini_body("sky"), headers=headers, params=params)
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"]["status"] == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("directive", "status", "google_status"),
    [("[demo:fail=429]", 429, "RESOURCE_EXHAUSTED"), ("[demo:fail=503]", 503, "UNAVAILABLE"),
     ("[demo:fail=401]", 401, "UNAUTHENTICATED"), ("[demo:error]", 500, "INTERNAL")],
)  # fmt: skip
def test_directives_fail_gemini_in_googles_envelope(http, directive, status, google_status):
    response = generate(http, gemini_body(f"sky {directive}"))
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (status, google_status)
    assert error["message"]


def test_gemini_moderation_refusal_and_a_blocked_prompt(http):
    moderated = generate(http, gemini_body("sky [demo:moderation]")).json()
    assert moderated["candidates"][0]["finishReason"] == "IMAGE_SAFETY"
    assert "content" not in moderated["candidates"][0]
    blocked = generate(http, gemini_body("sky [demo:moderation=prompt]")).json()
    assert "candidates" not in blocked
    assert blocked["promptFeedback"]["blockReason"] == "PROHIBITED_CONTENT"
    refused = generate(http, gemini_body("sky [demo:refuse]")).json()
    (part,) = refused["candidates"][0]["content"]["parts"]
    assert "sorry" in part["text"]


def test_a_dropped_gemini_stream_ends_after_the_progress(http):
    url = "/v1beta/models/gemini-2.5-flash-image:streamGenerateContent"
    body = gemini_body("sky [demo:drop]")
    lines: list[str] = []
    with http.stream("POST", url, json=body, params={"alt": "sse"}, headers=GOOGLE_KEY) as response:
        with pytest.raises(httpx.RemoteProtocolError):
            lines.extend(response.iter_lines())
    chunks = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    parts = [part for chunk in chunks for part in chunk["candidates"][0]["content"]["parts"]]
    assert len(parts) == 2
    assert all("text" in part for part in parts)


def test_a_streamed_gemini_error_comes_as_an_error_chunk(http):
    chunks = stream_chunks(http, gemini_body("sky [demo:error]"))
    assert chunks[-1]["error"]["status"] == "INTERNAL"
    assert not any(pictures_in(chunk["candidates"][0]["content"]["parts"]) for chunk in chunks[:-1])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_the_gemini_mask_is_the_last_picture_and_is_kept_to(http, stream):
    original = source_png()
    body = gemini_body(f"invert\n\n{MASK_SENTENCE}", [original, visible_mask(mask_png())])
    if stream:
        parts = stream_chunks(http, body)[-1]["candidates"][0]["content"]["parts"]
    else:
        parts = generate(http, body).json()["candidates"][0]["content"]["parts"]
    (result,) = pictures_in(parts)  # the mask is no picture to edit
    assert_changed_only_inside(result, original)


# -- chat completions, shown a mask ---------------------------------------------------------


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_the_chat_mask_is_the_last_picture_and_is_kept_to(http, stream):
    original = source_png()
    content = [
        {"type": "text", "text": f"invert\n\n{MASK_SENTENCE}"},
        {"type": "image_url", "image_url": {"url": data_url(original)}},
        {"type": "image_url", "image_url": {"url": data_url(visible_mask(mask_png()))}},
    ]
    messages = [{"role": "user", "content": content}]
    response = http.post("/v1/chat/completions", headers=BEARER, json={
        "model": "gpt-4o-image", "stream": stream, "messages": messages,
    })  # fmt: skip
    if stream:
        text = "".join(
            json.loads(line[6:])["choices"][0]["delta"].get("content", "")
            for line in response.iter_lines()
            if line.startswith("data: {") and json.loads(line[6:])["choices"]
        )
    else:
        text = response.json()["choices"][0]["message"]["content"]
    (link,) = re.findall(r"!\[gen_\d+\]\((\S+?)\)", text)
    assert link.endswith(".png")  # lossless, so the kept area stays exact
    assert_changed_only_inside(picture(httpx.get(link).content), original)


def test_without_the_sentence_a_second_picture_is_no_mask(http):
    content = [
        {"type": "text", "text": "invert"},
        {"type": "image_url", "image_url": {"url": data_url(source_png())}},
        {"type": "image_url", "image_url": {"url": data_url(visible_mask(mask_png()))}},
    ]
    response = http.post("/v1/chat/completions", headers=BEARER, json={
        "model": "gpt-4o-image", "messages": [{"role": "user", "content": content}],
    })  # fmt: skip
    (link,) = re.findall(
        r"!\[gen_\d+\]\((\S+?)\)", response.json()["choices"][0]["message"]["content"]
    )
    result = picture(httpx.get(link).content).convert("RGB")
    inverted = ImageChops.invert(picture(source_png()).convert("RGB"))
    assert max(ImageStat.Stat(ImageChops.difference(result, inverted)).mean) < 8  # all of it


# -- the models it serves -------------------------------------------------------------------


def test_the_models_given_are_listed_and_answered(http):
    listed = http.get("/v1/models").json()["data"]
    assert [model["id"] for model in listed] == list(MODELS)
    google = http.get("/v1beta/models", headers=GOOGLE_KEY).json()["models"]
    assert [model["name"] for model in google] == [f"models/{name}" for name in MODELS]
    for model in MODELS:
        images = http.post("/v1/images/generations", headers=BEARER,
                           json={"model": model, "prompt": "sky"})  # fmt: skip
        assert images.status_code == 200
        assert generate(http, gemini_body("sky"), model=model).status_code == 200


def test_ensure_running_lists_the_models_of_every_call():
    base_url = ensure_running(models=["demo-first"], latency=0.0)
    assert ensure_running(models=["demo-second"], latency=0.0) == base_url
    listed = [model["id"] for model in httpx.get(f"{base_url}/v1/models").json()["data"]]
    assert {"demo-first", "demo-second"} <= set(listed)
