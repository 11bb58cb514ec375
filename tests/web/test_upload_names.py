"""An upload's own name may be anything: it is taken, cut to a safe length with its extension,
and only ever shown as text. Stored files and downloads have names of Gaitu's own.

The bodies are written by hand: Django's test client would cut a name to 255 characters and
encode it as UTF-8 before the server ever saw it.
"""

import pytest
from django.urls import reverse

from editor.forms import UPLOAD_NAME_MAX_CHARS
from editor.models import Edit, SourceImage
from tests.support.factories import image_bytes

BOUNDARY = "odd-names"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"

NAMES = [
    # (the Content-Disposition's file name parameter, as sent; the name kept)
    (b'filename="' + b"a" * 1000 + b'.jpg"', "a" * 195 + "….jpg"),
    (b'filename="' + "😀".encode() * 1000 + b'.png"', "😀" * 195 + "….png"),
    (b'filename="pic\x00ture.jpg"', "picture.jpg"),  # NUL
    (b'filename="../../etc/passwd.jpg"', "passwd.jpg"),
    (b'filename="C:\\Users\\me\\photo.jpg"', "photo.jpg"),
    ('filename="\u202egpj.exe"'.encode(), "gpj.exe"),  # a right-to-left override
    ('filename="图片 🖼 2.jpg"'.encode(), "图片 🖼 2.jpg"),
    (b'filename="caf\xe9.jpg"', "caf\ufffd.jpg"),  # Latin-1, not UTF-8
    (b"filename*=UTF-8''%E5%9B%BE.jpg", "图.jpg"),  # RFC 5987
]


def body(file_field: str, disposition: bytes, content: bytes, **fields: str) -> bytes:
    boundary = BOUNDARY.encode()
    out = b""
    for name, value in {"instruction": "sepia", **fields}.items():
        out += b"--" + boundary + b"\r\n"
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += b"--" + boundary + b"\r\n"
    out += f'Content-Disposition: form-data; name="{file_field}"; '.encode() + disposition
    out += b"\r\nContent-Type: image/jpeg\r\n\r\n" + content + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


@pytest.mark.parametrize(("disposition", "kept"), NAMES)
def test_the_studio_takes_any_name(owner_client, run_jobs, disposition, kept):
    with run_jobs():
        response = owner_client.post(
            reverse("studio"),
            body("images", disposition, image_bytes()),
            content_type=MULTIPART,
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200, response.text[:300]
    assert Edit.objects.get().status == "succeeded"
    assert SourceImage.objects.get().filename == kept
    assert len(kept) <= UPLOAD_NAME_MAX_CHARS


@pytest.mark.parametrize(("disposition", "kept"), NAMES)
def test_the_api_takes_any_name(client, owner_token, run_jobs, disposition, kept):
    with run_jobs():
        response = client.post(
            reverse("api_edits"),
            body("image", disposition, image_bytes()),
            content_type=MULTIPART,
            HTTP_AUTHORIZATION=f"Bearer {owner_token}",
        )
    assert response.status_code == 202, response.content[:300]
    assert SourceImage.objects.get().filename == kept


def test_a_name_is_shown_as_text_only(owner_client):
    """The name of a file that is no picture is in the refusal, escaped."""
    hostile = b'filename="<img src=x onerror=alert(1)>.jpg"'
    response = owner_client.post(
        reverse("studio"),
        body("images", hostile, b"not a picture"),
        content_type=MULTIPART,
        HTTP_HX_REQUEST="true",
    )
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg: " in response.text
    assert "<img src=x" not in response.text
    assert not Edit.objects.exists()


def test_a_download_is_named_by_gaitu_not_by_the_upload(owner_client, run_jobs):
    with run_jobs():
        owner_client.post(
            reverse("studio"),
            body("images", b'filename="' + "résumé ✓".encode() + b'.jpg"', image_bytes()),
            content_type=MULTIPART,
        )
    edit = Edit.objects.get()
    assert edit.sources.get().filename == "résumé ✓.jpg"
    for kind in ("source", "result"):
        download = owner_client.get(reverse("media", args=[edit.pk, kind, 0, "download"]))
        label = "original" if kind == "source" else "result"
        expected = f'attachment; filename="gaitu-{str(edit.pk)[:8]}-{label}.jpg"'
        assert download["Content-Disposition"] == expected  # plain ASCII: no filename* needed
