"""Pages at scale and static assets, same server, same run.

The first gallery page and a share page for a person with 10,000 edits against one with 25
(so that both pages show a full 24 tiles; goal: ratio <= 1.2; query counts are fixed by
tests); what the first gallery page and the studio transfer; and how static files are served
(compressed, cached for a year).
"""

import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.live import split_gaitu

ROUNDS = 30
GZIP = {"Accept-Encoding": "gzip"}
# For `manage.py shell -c`: one photo and its thumbnail in storage, which every edit a bench
# makes in bulk shares (`image`: the fields of a SourceImage or ResultImage).
PICTURES = """
import io
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from imaging import make_thumbnail
from editor.models import Edit, ResultImage, Share, SourceImage

photo = Image.effect_noise((1200, 800), 30).convert("RGB")
photo = Image.blend(photo, Image.linear_gradient("L").resize((1200, 800)).convert("RGB"), 0.7)
raw = io.BytesIO()
photo.save(raw, "JPEG", quality=88)
full = default_storage.save("bench/full.jpg", ContentFile(raw.getvalue()))
thumb = default_storage.save("bench/thumb.webp", ContentFile(make_thumbnail(raw)))
image = dict(file=full, thumbnail=thumb, width=1200, height=800, content_type="image/jpeg")
"""
FILL = (
    PICTURES
    + """
for name, count in (("small", 25), ("big", 10_000)):
    owner = get_user_model().objects.get(username=name)
    edits = Edit.objects.bulk_create(
        Edit(owner=owner, instruction=f"edit number {n} of {name}", model="gpt-4o-image",
             status="succeeded", stage="done", progress=100)
        for n in range(count)
    )
    SourceImage.objects.bulk_create(SourceImage(edit=e, **image) for e in edits)
    ResultImage.objects.bulk_create(ResultImage(edit=e, **image) for e in edits)
    share = Share.objects.create(edit=edits[-1])
    print(name, share.token)
"""
)


def run() -> list[tuple[str, str, str]]:
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-pages-") as folder,
        split_gaitu(Path(folder), with_worker=False) as gaitu,
    ):
        gaitu.api("small"), gaitu.api("big")  # the two people, with API tokens unused here
        shares = dict(
            line.split() for line in gaitu.manage("shell", "--no-imports", "-c", FILL).splitlines()
        )
        gallery = {
            name: median_time(gaitu.session(name, headers=GZIP), "/gallery/")
            for name in ("small", "big")
        }
        share = {
            name: median_time(httpx.Client(base_url=gaitu.url), f"/s/{shares[name]}")
            for name in shares
        }
        page_bytes, image_bytes = _first_gallery_page(gaitu.session("big", headers=GZIP))
        studio_bytes, static_ok = _studio_transfer(gaitu.session("small", headers=GZIP))
    return [
        (
            "first gallery page (24 tiles), 10,000 edits vs 25",
            ratio_figure(gallery["big"], gallery["small"]),
            "<= 1.2",
        ),
        (
            "share page, owner with 10,000 edits vs 25",
            ratio_figure(share["big"], share["small"]),
            "<= 1.2",
        ),
        (
            "first gallery page transferred (HTML + thumbnails)",
            f"{(page_bytes + image_bytes) / 1024:.0f} KB "
            f"({page_bytes / 1024:.0f} + {image_bytes / 1024:.0f})",
            "<= 600 KB",
        ),
        (
            "studio first load before images (HTML, CSS, JS, gzip)",
            f"{studio_bytes / 1024:.0f} KB",
            "<= 150 KB",
        ),
        ("static files compressed, cached a year, hashed names", static_ok, "yes"),
    ]


def median_time(client: httpx.Client, path: str, rounds: int = ROUNDS, **options) -> float:
    """The median time of `rounds` requests for `path` (after one unmeasured)."""
    client.get(path, **options)
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        assert client.get(path, **options).status_code == 200
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def ratio_figure(measured: float, baseline: float) -> str:
    return f"{measured / baseline:.2f}x ({measured * 1000:.1f} ms / {baseline * 1000:.1f} ms)"


def _first_gallery_page(browser: httpx.Client) -> tuple[int, int]:
    page = browser.get("/gallery/")
    sources = set(re.findall(r'<img src="([^"]+)"', page.text))
    images = sum(len(browser.get(src).content) for src in sources)
    return len(page.content), images


def _studio_transfer(browser: httpx.Client) -> tuple[int, str]:
    page = browser.get("/")
    assets = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css|svg))"', page.text)
    total, verdicts = len(page.content), []
    for asset in assets:
        with browser.stream("GET", asset) as response:
            sent = b"".join(response.iter_raw())
            total += len(sent)
            cache = response.headers.get("cache-control", "")
            verdicts.append(
                response.headers.get("content-encoding") == "gzip"
                and "max-age=315360000" in cache
                and re.search(r"\.[0-9a-f]{12}\.", asset) is not None
            )
    return total, "yes" if verdicts and all(verdicts) else f"no ({verdicts})"
