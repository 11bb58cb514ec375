"""`manage.py backup` of a running Gaitu and `manage.py restore` into another, with real
processes: the same people, edits, pictures, API tokens, sessions and share links.

In the scale-out profile each installation has a PostgreSQL database and an S3 bucket of its
own: the backup keeps the rows as JSON and copies the pictures from the bucket, and restore
loads them into an empty database and writes the pictures into an empty bucket.
"""

import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from tests.support.factories import image_bytes
from tests.support.live import (
    ROOT,
    SCALE_PROFILE,
    Gaitu,
    free_port,
    running_gaitu,
    stop,
    wait_for_edit,
    wait_until,
)
from tests.support.servers import fresh_deployment
from tests.support.stored import storage_of, stored_names

FINISHED = ("succeeded", "failed", "canceled")
# How the archive keeps the database: a copy of the SQLite file, or Django's JSON of PostgreSQL.
DATABASE_MEMBER = "data.json" if SCALE_PROFILE else "gaitu.sqlite3"
_DEPLOYMENTS: dict[Path, dict[str, str]] = {}


def deployment(data_dir: Path) -> dict[str, str]:
    """The installation's variables beyond its folder: in the scale-out profile its database,
    queue and bucket, made for it the first time (tests/support/servers.py)."""
    if SCALE_PROFILE and data_dir not in _DEPLOYMENTS:
        _DEPLOYMENTS[data_dir] = fresh_deployment(dict(os.environ))
    return _DEPLOYMENTS.get(data_dir, {})


def environment(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "GAITU_DATA_DIR": str(data_dir),
        "GAITU_MIN_FREE_MB": "0",
        **deployment(data_dir),
    }
    if not SCALE_PROFILE:  # the key is the data folder's own, which the archive carries
        env.pop("SECRET_KEY", None)
    return env


def manage(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """A management command for the installation in data_dir, whatever its exit status."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment(data_dir),
        capture_output=True, text=True,
    )  # fmt: skip


def store(env: dict[str, str]) -> Storage:
    """The installation's pictures: its media folder, or its bucket."""
    return storage_of(env, Path(env["GAITU_DATA_DIR"]))


def rows(env: dict[str, str], query: str) -> list[tuple]:
    """Rows of the installation's database: SQLite in its folder, or its PostgreSQL."""
    if SCALE_PROFILE:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as db:
            return [tuple(row) for row in db.execute(query).fetchall()]
    database = Path(env["GAITU_DATA_DIR"]) / "gaitu.sqlite3"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(query).fetchall()


def has_database(data_dir: Path) -> bool:
    """Whether anything of a database was put in place (a refused restore puts none)."""
    if SCALE_PROFILE:
        (table,) = rows(environment(data_dir), "SELECT to_regclass('editor_edit')")[0]
        return table is not None
    return (data_dir / "gaitu.sqlite3").exists()


def submit(client: httpx.Client, instruction: str, color=(200, 40, 40)) -> str:
    photo = ("p.jpg", image_bytes((96, 64), color=color), "image/jpeg")
    response = client.post(
        "/api/v1/edits", data={"instruction": instruction}, files={"image": photo}
    )
    assert response.status_code == 202, response.text
    return httpx.URL(response.json()["url"]).path


def edits_of(client: httpx.Client) -> dict[str, dict]:
    return {edit["id"]: edit for edit in client.get("/api/v1/edits").json()["results"]}


def path_of(url: str) -> str:
    return httpx.URL(url).path


def pictures(client: httpx.Client, edit: dict) -> dict[str, bytes]:
    """Every picture of an edit, each size, by its path."""
    found = {}
    for picture in edit["sources"] + edit["results"]:
        full = path_of(picture["url"])
        for path in (full, full.removesuffix("/full") + "/thumb"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            found[path] = response.content
    return found


def people(env: dict[str, str]) -> list[tuple]:
    return rows(env, "SELECT id, username, password, is_superuser FROM auth_user ORDER BY id")


def snapshot_edits(env: dict[str, str]) -> dict[str, str]:
    # Django keeps UUIDs on SQLite as 32 hex digits, on PostgreSQL as uuid.
    found = rows(env, "SELECT id, status FROM editor_edit")
    return {str(uuid.UUID(str(edit_id))): status for edit_id, status in found}


@contextmanager
def a_gateway_that_outlives_gaitu(data_dir: Path):
    """The demo gateway in a process of its own, as a real gateway is: an edit that was
    downloading its result at the snapshot finds its link still there after the restore (the
    built-in demo's results go with the process that made them)."""
    port = free_port()
    gateway = Gaitu(data_dir, GAITU_DEMO_LATENCY="2")
    proc = gateway.start("demo_gateway", "--port", str(port))
    try:
        wait_until(lambda: _listening(port), timeout=30)
        yield {
            "GAITU_API_BASE": f"http://127.0.0.1:{port}/v1",
            "GAITU_API_KEY": "remote-demo",
            "GAITU_FETCH_ALLOW_HOSTS": "127.0.0.1",
        }
    finally:
        stop(proc, signal.SIGTERM)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_a_backup_taken_during_a_burst_of_edits_restores_everything(tmp_path):
    with a_gateway_that_outlives_gaitu(tmp_path / "gateway") as gateway:
        burst_backed_up_and_restored(tmp_path, gateway)


def burst_backed_up_and_restored(tmp_path: Path, gateway: dict[str, str]) -> None:
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    archive = tmp_path / "gaitu.tar.gz"
    with running_gaitu(first_dir, GAITU_MAX_ACTIVE_PER_USER="2", **gateway) as first:
        alice, bob = first.api("alice"), first.api("bob")
        shared_edit = submit(alice, "mirror")
        assert wait_for_edit(alice, shared_edit)["status"] == "succeeded"
        share = alice.post(f"{shared_edit}/share")
        assert share.status_code == 201, share.text
        share_path = path_of(share.json()["url"])
        browser = first.session("alice")
        assert browser.get("/").status_code == 200

        # A burst of ten, of two people: at most two of each run at once, the rest wait.
        def one(n: int) -> str:
            return submit(alice if n % 2 else bob, f"blur {n}", color=(20 * n, 90, 40))

        with ThreadPoolExecutor(10) as pool:
            burst = list(pool.map(one, range(10)))
        wait_until(
            lambda: any(e["status"] == "running" for e in edits_of(bob).values()),
            what="an edit of the burst running",
        )
        made = first.manage("backup", str(archive))
        statuses = [e["status"] for c in (alice, bob) for e in edits_of(c).values()]
        still_active = [s for s in statuses if s in ("queued", "running")]
        assert still_active, "the burst was over before the backup: it tested nothing"
        assert "Backed up 2 people, 11 edits" in made, made
        for n, path in enumerate(burst):
            wait_for_edit(alice if n % 2 else bob, path, timeout=120)
        before = {"alice": edits_of(alice), "bob": edits_of(bob)}
        before_pictures = {
            name: {i: pictures(c, e) for i, e in before[name].items()}
            for name, c in (("alice", alice), ("bob", bob))
        }
        shared_page = httpx.get(first.url + share_path)
        assert shared_page.status_code == 200
        users_before = people(first.env)
        first_store = store(first.env)

    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = tar.getnames()
    assert manifest["counts"]["users"] == 2 and manifest["counts"]["edits"] == 11
    assert manifest["missing"] == []
    assert set(names) == {"manifest.json", *manifest["files"]}
    assert DATABASE_MEMBER in names
    media = sorted(n.removeprefix("media/") for n in names if n.startswith("media/"))
    assert len(media) == manifest["counts"]["files"]
    with tarfile.open(archive) as tar:  # the pictures themselves, from the folder or bucket
        for name in [n for n in media if n.startswith("results/")][:3]:  # kept for good
            with first_store.open(name, "rb") as kept:
                assert tar.extractfile(f"media/{name}").read() == kept.read()

    restored = manage(second_dir, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "every sha256 matches" in restored.stdout
    second_env = environment(second_dir)
    assert people(second_env) == users_before
    at_snapshot = snapshot_edits(second_env)
    assert len(at_snapshot) == 11
    assert any(status in ("queued", "running") for status in at_snapshot.values())
    assert stored_names(store(second_env)) == media  # into the folder, or the new bucket
    if SCALE_PROFILE:  # the same SECRET_KEY on every machine: the archive needs no key file
        assert second_env["SECRET_KEY"] == first.env["SECRET_KEY"]
    else:
        assert "secret_key" in names
        assert (second_dir / "secret_key").read_bytes() == (first_dir / "secret_key").read_bytes()

    with running_gaitu(second_dir, **deployment(second_dir), **gateway) as second:
        # The old tokens, as they were.
        for name, token_header in (("alice", alice.headers), ("bob", bob.headers)):
            client = httpx.Client(base_url=second.url, headers=token_header, timeout=30)
            after = edits_of(client)
            assert set(after) == set(at_snapshot) & set(before[name])
            for edit_id, status in at_snapshot.items():
                if edit_id not in before[name]:
                    continue
                if status in FINISHED:
                    assert after[edit_id]["status"] == before[name][edit_id]["status"]
                    assert after[edit_id]["instruction"] == before[name][edit_id]["instruction"]
                    assert pictures(client, after[edit_id]) == before_pictures[name][edit_id]
                else:  # running or waiting at the snapshot: taken up again and finished here
                    detail = wait_for_edit(client, f"/api/v1/edits/{edit_id}", timeout=120)
                    assert detail["status"] == "succeeded", detail
                    pictures(client, detail)
        # The share link, and what it shows.
        page = httpx.get(second.url + share_path)
        assert page.status_code == 200
        assert httpx.get(second.url + share_path + "/result/0/full").status_code == 200
        # A session from before the backup: the secret key came along.
        same_browser = httpx.Client(base_url=second.url, cookies=browser.cookies, timeout=30)
        assert same_browser.get("/").status_code == 200
        assert same_browser.get("/gallery/").status_code == 200


# --- What restore refuses ------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, Path]:
    """An installation with one person, and an archive of it."""
    data = tmp_path_factory.mktemp("source")
    assert manage(data, "migrate", "--noinput").returncode == 0
    assert manage(data, "createsuperuser", "--noinput", "--username", "ann",
                  "--email", "ann@example.com").returncode == 0  # fmt: skip
    archive = data.parent / "small.tar.gz"
    made = manage(data, "backup", str(archive))
    assert made.returncode == 0, made.stderr
    return data, archive


@pytest.fixture
def backup(small) -> Path:
    return small[1]


def rewritten(source: Path, target: Path, change) -> Path:
    """A copy of an archive with `change(name, data)` applied to each member's bytes."""
    with tarfile.open(source) as old, tarfile.open(target, "w:gz") as new:
        for info in old.getmembers():
            data = change(info.name, old.extractfile(info).read())
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
    return target


def database_state(data_dir: Path) -> object:
    """What a refused restore leaves as it was: the SQLite file, or the people of PostgreSQL."""
    if SCALE_PROFILE:
        return people(environment(data_dir))
    return (data_dir / "gaitu.sqlite3").read_bytes()


def test_restore_refuses_a_data_folder_with_a_database(backup, tmp_path):
    assert manage(tmp_path, "migrate", "--noinput").returncode == 0
    before = database_state(tmp_path)
    refused = manage(tmp_path, "restore", str(backup))
    assert refused.returncode != 0
    assert "restore goes into an empty data folder" in refused.stderr
    assert database_state(tmp_path) == before


def test_restore_refuses_a_store_that_holds_pictures(backup, tmp_path):
    target = tmp_path / "data"
    target.mkdir()
    pictures = store(environment(target))
    pictures.save("originals/2026/01/already-here.jpg", ContentFile(image_bytes()))
    refused = manage(target, "restore", str(backup))
    assert refused.returncode != 0
    assert "There are stored pictures in" in refused.stderr
    assert "restore goes into an empty data folder" in refused.stderr
    assert not has_database(target)
    assert stored_names(pictures) == ["originals/2026/01/already-here.jpg"]


def test_restore_refuses_an_altered_archive_and_puts_nothing_in_place(backup, tmp_path):
    def alter(name: str, data: bytes) -> bytes:
        return (
            data.replace(b"ann@example.com", b"eve@example.com")
            if name == DATABASE_MEMBER
            else data
        )

    tampered = rewritten(backup, tmp_path / "tampered.tar.gz", alter)
    target = tmp_path / "data"
    refused = manage(target, "restore", str(tampered))
    assert refused.returncode != 0
    assert f"{DATABASE_MEMBER} is damaged or altered" in refused.stderr
    assert not has_database(target)
    assert [p.name for p in target.iterdir() if p.name.startswith(".restore")] == []


def test_restore_refuses_members_outside_the_folder(backup, tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(backup) as old, tarfile.open(evil, "w:gz") as new:
        for info in old.getmembers():
            new.addfile(info, old.extractfile(info))
        info = tarfile.TarInfo("../escaped")
        info.size = 4
        new.addfile(info, io.BytesIO(b"boo\n"))
    target = tmp_path / "data"
    refused = manage(target, "restore", str(evil))
    assert refused.returncode != 0
    assert "unsafe path in the archive: '../escaped'" in refused.stderr
    assert not (tmp_path / "escaped").exists() and not has_database(target)


@pytest.mark.parametrize("content", [b"not an archive at all", None])
def test_restore_refuses_what_is_not_a_gaitu_backup(tmp_path, content):
    archive = tmp_path / "foreign.tar.gz"
    if content is None:  # a good tar, of something else
        with tarfile.open(archive, "w:gz") as tar:
            info = tarfile.TarInfo("notes.txt")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"hi\n"))
    else:
        archive.write_bytes(content)
    refused = manage(tmp_path / "data", "restore", str(archive))
    assert refused.returncode != 0
    assert "cannot be restored" in refused.stderr
    assert "not a Gaitu backup" in refused.stderr or "not a readable" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_json_backup_restores_too(small, tmp_path):
    """--format json: Django's own serialization, as for a database other than SQLite."""
    source = small[0]
    archive = tmp_path / "json.tar.gz"
    made = manage(source, "backup", "--format", "json", str(archive))
    assert made.returncode == 0, made.stderr
    restored = manage(tmp_path / "data", "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert [row[1] for row in people(environment(tmp_path / "data"))] == ["ann"]


def test_restore_refuses_a_backup_of_a_newer_gaitu(backup, tmp_path):
    def newer(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["migrations"]["editor"].append("9999_from_the_future")
        return json.dumps(manifest).encode()

    archive = rewritten(backup, tmp_path / "newer.tar.gz", newer)
    refused = manage(tmp_path / "data", "restore", str(archive))
    assert refused.returncode != 0
    assert "made by a newer Gaitu" in refused.stderr
    assert "editor.9999_from_the_future" in refused.stderr
    assert not has_database(tmp_path / "data")
