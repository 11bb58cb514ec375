"""A real Gaitu on a small disk of its own (a tmpfs): edits are taken until the free-space floor,
then refused with a 507, while logging in, browsing, listing and deleting keep working; deleting
frees room for new edits, and nothing is left half-stored."""

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest
from PIL import Image

from tests.support.live import running_gaitu, wait_for_edit

DISK_MB = 64
FLOOR_MB = 12


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting the small disk (a tmpfs) needs root; CI runs these tests as root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", disk], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", disk], check=True)


def noise_png(side: int = 700) -> bytes:
    """A picture that does not compress: about 1.5 MB as a PNG."""
    path = Path(f"/dev/shm/gaitu-noise-{os.getpid()}.png")
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path)
    try:
        return path.read_bytes()
    finally:
        path.unlink()


def post_edit(api, instruction: str = "rotate it"):
    files = {"image": ("noise.png", noise_png(), "image/png")}
    return api.post("/api/v1/edits", data={"instruction": instruction}, files=files)


def stored_names(data_dir: Path) -> tuple[set[str], set[str]]:
    """The files under the media folder, and the files the database names."""
    media = data_dir / "media"
    on_disk = {str(path.relative_to(media)) for path in media.rglob("*") if path.is_file()}
    with closing(sqlite3.connect(data_dir / "gaitu.sqlite3")) as db:
        named = {
            name
            for table in ("editor_sourceimage", "editor_resultimage")
            for row in db.execute(f"SELECT file, thumbnail, display FROM {table}")  # noqa: S608
            for name in row
            if name
        }
    return on_disk, named


@pytest.mark.embedded_only  # the pictures are on the disk that fills: not so with a bucket
def test_a_filling_disk_refuses_new_edits_and_nothing_else(small_disk):
    env = {"GAITU_MIN_FREE_MB": str(FLOOR_MB), "GAITU_RATE_LIMIT": "0", "GAITU_DEMO_LATENCY": "0"}
    with running_gaitu(small_disk, **env) as gaitu:
        api = gaitu.api("admin")
        answers, accepted = [], []
        for _attempt in range(40):
            response = post_edit(api)
            answers.append(response.status_code)
            if response.status_code != 202:
                break
            accepted.append(response.json()["url"])
            wait_for_edit(api, response.json()["url"])  # its result stored before the next
        assert answers[-1] == 507, answers
        assert set(answers[:-1]) == {202}, answers
        assert len(accepted) >= 2, answers
        error = response.json()["error"]
        assert error["code"] == "storage_full"
        assert shutil.disk_usage(small_disk).free < FLOOR_MB * 2**20

        # The studio says so too, keeping what was written.
        browser = gaitu.session("admin")
        studio = browser.get("/")
        assert studio.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', studio.text).group(1)
        refused = browser.post(
            "/",
            data={"instruction": "a pink sky", "csrfmiddlewaretoken": token},
            files={"images": ("noise.png", noise_png(), "image/png")},
        )
        assert refused.status_code == 507
        assert "disk space" in refused.text
        assert "a pink sky</textarea>" in refused.text

        # Everything else works: logging in, browsing, listing, downloading.
        for path in ("/gallery/", "/account/", accepted[0].split("/api/v1")[0] + "/"):
            assert browser.get(path).status_code < 500, path
        listed = api.get("/api/v1/edits")
        assert listed.status_code == 200
        assert listed.json()["count"] == len(accepted)
        first = api.get(accepted[0]).json()
        assert first["status"] == "succeeded", first
        assert api.get(first["results"][0]["url"]).status_code == 200
        assert api.get("/api/v1/account").json()["stored_bytes"] > 0

        # Deleting frees the room, and a new edit is taken and finishes.
        for url in accepted[: len(accepted) // 2 + 1]:
            assert api.delete(url).status_code == 204
        assert shutil.disk_usage(small_disk).free >= FLOOR_MB * 2**20
        again = post_edit(api, "rotate it")
        assert again.status_code == 202, again.text
        assert wait_for_edit(api, again.json()["url"])["status"] == "succeeded"

        # No edit is left running, and every stored file has its row and every row its files.
        statuses = [edit["status"] for edit in api.get("/api/v1/edits").json()["results"]]
        assert set(statuses) == {"succeeded"}, statuses
        on_disk, named = stored_names(small_disk)
        assert on_disk == named
    for log in gaitu.logs:
        assert " 500 " not in log.read_text(), log.read_text()[-2000:]
