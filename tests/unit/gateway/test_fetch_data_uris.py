"""Data URIs are decoded in place and checked like downloaded pictures: base64, type, size."""

import base64

import pytest

from gateway.fetch import fetch_image
from tests.support.fetch_servers import NOISY_PNG, PNG, fails, png_header_only
from tests.support.fetch_servers import loopback_only as loopback_only

B64 = base64.b64encode(PNG).decode()


def test_data_uri_with_line_breaks_and_no_padding() -> None:
    wrapped = "\n".join(B64.rstrip("=")[i : i + 60] for i in range(0, len(B64), 60))
    image = fetch_image(f"data:image/png;base64,{wrapped}")
    assert (image.data, image.content_type, image.width, image.height) == (PNG, "image/png", 4, 3)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("data:image/png;base64,iVBO!!!!", "bad base64 in data URI"),
        ("data:image/png;base64,iVBORw0KG", "bad base64 in data URI"),  # 4n+1 characters
        ("data:image/png;base64,PGh0bWw+", "not an image (image/png)"),
        ("data:image/png;base64," + base64.b64encode(NOISY_PNG[:3000]).decode(), "broken PNG"),
    ],
)
def test_bad_data_uris(uri: str, reason: str) -> None:
    assert fails(uri).reason.startswith(reason)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        (f"data:text/html;base64,{B64}", "data URI is text/html, not an image"),
        (f"data:;base64,{B64}", "data URI is text/plain, not an image"),
        ("data:text/html,<script>alert(1)</script>", "data URI is text/html, not an image"),
        ("data:image/png,%89PNG", "data URI is not base64"),
    ],
)
def test_data_uris_that_are_not_inline_pictures_are_refused(uri: str, reason: str) -> None:
    """Only data:image/…;base64 is an inline picture; any other data URI is a link of a kind
    Gaitu does not follow, as ftp: is."""
    refused = fails(uri, "link_blocked")
    assert (refused.reason, refused.refusal) == (reason, "scheme_not_allowed")


def test_data_uri_over_cap() -> None:
    assert fails(f"data:image/png;base64,{B64}", max_bytes=50).reason == "over 50 bytes"


@pytest.mark.parametrize(
    ("data", "max_pixels"),
    [
        (png_header_only(100_000, 100_000), 50_000_000),  # Pillow's own bomb limit trips first
        (png_header_only(10_000, 10_000), 50_000_000),
        (PNG, 11),
    ],
)
def test_too_many_pixels(data: bytes, max_pixels: int) -> None:
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    assert "image dimensions too large" in fails(uri, max_pixels=max_pixels).reason
