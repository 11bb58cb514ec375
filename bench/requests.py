"""Request costs against their floors, same server, same run: submitting a 12-megapixel
photo (studio and API) and an unchanged status poll."""

import statistics
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from tests.support.live import split_gaitu

ROUNDS = 60


def run() -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="gaitu-requests-") as folder:
        photo = _photo(Path(folder) / "photo.jpg")
        with split_gaitu(
            Path(folder) / "data",
            with_worker=False,  # edits stay queued: no worker competes for the CPU
            DJANGO_SETTINGS_MODULE="bench.settings",
            GAITU_RATE_LIMIT="0",
        ) as gaitu:
            api = gaitu.api("bench")
            browser = gaitu.session("bench")
            photo_file = ("photo.jpg", photo, "image/jpeg")
            upload = {"image": photo_file}
            form = {"instruction": "mirror", "model": "gpt-4o-image"}
            timings: dict[str, list[float]] = {"floor": [], "studio": [], "api": []}
            for _ in range(ROUNDS):  # interleaved, so that noise falls on all three alike
                timings["floor"].append(_timed(api.post, "/floor/save", files=upload))
                studio = {"HX-Request": "true", "X-CSRFToken": browser.cookies["csrftoken"]}
                timings["studio"].append(
                    _timed(
                        browser.post, "/", data=form, files={"images": photo_file}, headers=studio
                    )
                )
                timings["api"].append(_timed(api.post, "/api/v1/edits", data=form, files=upload))
            polls = _poll_timings(browser, api)
    rows = [
        (
            f"submit a {len(photo) / 2**20:.1f} MB 12 MP JPEG: {where}, p50 / p95 vs floor",
            f"{_ratio(timings[where], timings['floor'], 50)} / "
            f"{_ratio(timings[where], timings['floor'], 95)}",
            "<= 1.5",
        )
        for where in ("studio", "api")
    ]
    rows.append(("unchanged status poll (304), p50 vs a static view", _ratio(*polls, 50), "<= 2"))
    return rows


def _photo(path: Path) -> bytes:
    """A 12-megapixel photo-like JPEG of about 4 MB."""
    image = Image.effect_noise((4000, 3000), 40).convert("RGB")
    image = Image.blend(image, Image.linear_gradient("L").resize((4000, 3000)).convert("RGB"), 0.6)
    image.save(path, "JPEG", quality=88)
    return path.read_bytes()


def _timed(call, *args, **kwargs) -> float:
    began = time.perf_counter()
    response = call(*args, **kwargs)
    elapsed = time.perf_counter() - began
    assert response.status_code in (200, 201, 202, 304), response.text[:300]
    return elapsed


def _poll_timings(browser: httpx.Client, api: httpx.Client) -> tuple[list[float], list[float]]:
    edit_id = api.get("/api/v1/edits").json()["results"][0]["id"]
    card = f"/edits/{edit_id}/"
    headers = {"HX-Request": "true", "HX-Current-URL": f"{browser.base_url}/"}
    etag = browser.get(card, headers=headers).headers["ETag"]
    unchanged, floor = [], []
    for _ in range(ROUNDS * 8):
        unchanged.append(_timed(browser.get, card, headers={**headers, "If-None-Match": etag}))
        floor.append(_timed(browser.get, "/floor/static"))
    return unchanged, floor


def _ratio(measured: list[float], baseline: list[float], percentile: int) -> str:
    def at(values: list[float]) -> float:
        return statistics.quantiles(values, n=100)[percentile - 1]

    mine, floor = at(measured), at(baseline)
    return f"{mine / floor:.2f}x ({mine * 1000:.0f} ms / {floor * 1000:.0f} ms)"
