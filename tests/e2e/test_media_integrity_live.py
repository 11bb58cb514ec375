"""A running Gaitu whose pictures are removed and cut short by hand (in its media folder, or its
bucket in the scale-out profile), over HTTP: the pages and the pictures answer 200, a
placeholder or 404, never a server error; check_media says so."""

import subprocess

import pytest

from tests.support.factories import image_bytes
from tests.support.live import running_gaitu, wait_for_edit
from tests.support.stored import (
    remove_stored,
    replace_stored,
    storage_of,
    stored_bytes,
    stored_names,
)

MEDIA = [
    (kind, variant) for kind in ("source", "result") for variant in ("full", "thumb", "download")
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_gaitu(tmp_path_factory.mktemp("live-media"), GAITU_DEMO_LATENCY="0.3") as gaitu:
        yield gaitu


def test_pictures_gone_from_the_disk_are_no_server_error(live):
    api = live.api("admin")
    answer = api.post(
        "/api/v1/edits",
        data={"instruction": "sepia"},
        files={"image": ("photo.jpg", image_bytes((120, 80)), "image/jpeg")},
    )
    assert answer.status_code == 202, answer.text
    detail = wait_for_edit(api, answer.json()["url"])
    assert detail["status"] == "succeeded", detail["error"]
    edit_id = detail["id"]
    share = api.post(f"/api/v1/edits/{edit_id}/share", data={"show_original": "true"})
    assert share.status_code == 201, share.text
    token = share.json()["url"].rsplit("/", 1)[-1]

    # By hand, behind Gaitu's back: the result and every thumbnail deleted, the original cut.
    store = storage_of(live.env, live.data_dir)
    names = stored_names(store)
    for name in names:
        if name.startswith(("results/", "thumbs/")):
            remove_stored(name, store)
    (original,) = [name for name in names if name.startswith("originals/")]
    replace_stored(original, stored_bytes(original, store)[:300], store)

    browser = live.session("admin")
    pages = ["/", "/gallery/", f"/edits/{edit_id}/", f"/s/{token}"]
    for page in pages:
        assert browser.get(page).status_code == 200, page
    studio = browser.get("/", params={"again": f"{edit_id}:0"})
    assert studio.status_code == 200
    assert "The picture of that result is missing" in studio.text
    assert api.get(f"/api/v1/edits/{edit_id}").status_code == 200
    for kind, variant in MEDIA:
        for url in (f"/media/{edit_id}/{kind}/0/{variant}", f"/s/{token}/{kind}/0/{variant}"):
            response = browser.get(url)
            assert response.status_code < 500, (url, response.status_code)
            if variant == "thumb":
                assert response.status_code == 200
                assert response.headers["content-type"] == "image/svg+xml"
            elif kind == "result":
                assert response.status_code == 404, url

    # Edit again from the result that is gone: the API says why, as a 400 on "parent".
    again = api.post("/api/v1/edits", data={"instruction": "blur", "parent": f"{edit_id}:0"})
    assert again.status_code == 400
    assert again.json()["error"]["field"] == "parent"

    with pytest.raises(subprocess.CalledProcessError) as found:
        live.manage("check_media")
    assert found.value.returncode == 1
    assert "Missing file: results/" in found.value.stdout
