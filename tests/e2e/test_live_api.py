"""The issue's own check: `make run`'s processes, an owner from createsuperuser, a token from
create_api_token, edits through the JSON API, results compared with the original."""

import io

import pytest
from PIL import Image

from tests.support.factories import image_bytes
from tests.support.live import running_gaitu
from tests.support.live import wait_for_edit as wait_for


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_gaitu(tmp_path_factory.mktemp("live-api"), GAITU_DEMO_LATENCY="1") as gaitu:
        yield gaitu.url, gaitu.api()


@pytest.mark.parametrize("instruction", ["rotate it", "把它变成黑白"])
def test_edit_through_the_running_product(live, instruction):
    _, client = live
    photo = image_bytes((120, 80), quality=92)
    response = client.post(
        "/api/v1/edits",
        data={"instruction": instruction},
        files={"image": ("photo.jpg", photo, "image/jpeg")},
    )
    assert response.status_code == 202, response.text
    detail = wait_for(client, response.json()["url"])
    assert detail["status"] == "succeeded", detail["error"]
    result = Image.open(io.BytesIO(client.get(detail["results"][0]["url"]).content))
    original = Image.open(io.BytesIO(client.get(detail["sources"][0]["url"]).content))
    assert original.size == (120, 80)
    if instruction == "rotate it":
        assert result.size == (80, 120)
    else:
        r, g, b = result.convert("RGB").getpixel((100, 60))
        assert abs(r - g) < 8 and abs(g - b) < 8


def test_concurrent_edits_all_finish(live):
    _, client = live
    urls = []
    for n in range(6):
        response = client.post(
            "/api/v1/edits",
            data={"instruction": f"blur #{n}"},
            files={"image": ("p.png", image_bytes(fmt="PNG"), "image/png")},
        )
        urls.append(response.json()["url"])
    assert [wait_for(client, url)["status"] for url in urls] == ["succeeded"] * 6


def test_failure_is_reported_through_the_api(live):
    _, client = live
    response = client.post(
        "/api/v1/edits",
        data={"instruction": "blur [demo:fail=503]"},
        files={"image": ("p.jpg", image_bytes(), "image/jpeg")},
    )
    detail = wait_for(client, response.json()["url"])
    assert detail["status"] == "failed"
    assert detail["error"]["code"] == "model_unavailable"
