"""The backup archive's pure parts: snapshots of a live SQLite database and the files its rows
name, the manifest, and what unpacking refuses."""

import io
import sqlite3
import tarfile
import threading

import pytest

from webapp.backup import (
    MANIFEST,
    SQLITE_MEMBER,
    BadArchive,
    Manifest,
    consistent_snapshot,
    copy_file,
    pin_file,
    safe_relative,
    sha256_of,
    snapshot_sqlite,
    unpack,
    write_archive,
)

COLUMNS = [("picture", "file"), ("not_migrated_yet", "file"), ("picture", "not_yet")]


@pytest.fixture
def live(tmp_path):
    """A WAL database naming two stored files, and the media folder holding them."""
    database, media = tmp_path / "live.sqlite3", tmp_path / "media"
    (media / "originals").mkdir(parents=True)
    for name in ("originals/a.jpg", "originals/b.jpg"):
        (media / name).write_bytes(name.encode())
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE picture (id INTEGER PRIMARY KEY, file TEXT)")
    db.executemany(
        "INSERT INTO picture (file) VALUES (?)", [("originals/a.jpg",), ("originals/b.jpg",), ("",)]
    )
    yield database, media, db
    db.close()


def test_a_snapshot_is_one_file_and_one_moment_while_another_connection_writes(live, tmp_path):
    database, _, _ = live
    stop = threading.Event()

    def write() -> None:
        writer = sqlite3.connect(database, isolation_level=None, timeout=30)
        while not stop.is_set():
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO picture (file) VALUES ('x')")
            writer.execute("INSERT INTO picture (file) VALUES ('y')")
            writer.execute("COMMIT")
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        copy = tmp_path / "copy.sqlite3"
        snapshot_sqlite(database, copy)
    finally:
        stop.set()
        thread.join()
    assert not (tmp_path / "copy.sqlite3-wal").exists()
    check = sqlite3.connect(copy)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    xs, ys = (
        check.execute("SELECT COUNT(*) FROM picture WHERE file = ?", (v,)).fetchone()[0]
        for v in "xy"
    )
    assert xs == ys  # both rows of every transaction, or neither
    check.close()


def test_every_named_file_is_pinned(live, tmp_path):
    database, media, _ = live
    staging = tmp_path / "staging"
    staging.mkdir()
    names, missing = consistent_snapshot(
        database, staging, COLUMNS, lambda n: pin_file(media, n, staging)
    )
    assert names == {"originals/a.jpg", "originals/b.jpg"} and missing == set()
    (media / "originals/a.jpg").unlink()  # deleted after its pin: the backup keeps it
    assert (staging / "media/originals/a.jpg").read_bytes() == b"originals/a.jpg"
    assert (staging / SQLITE_MEMBER).is_file()


def test_a_file_replaced_between_snapshot_and_pin_means_a_fresh_snapshot(live, tmp_path):
    """As when an edit finishes: its row names the cleaned original, and the upload goes."""
    database, media, db = live
    staging = tmp_path / "staging"
    staging.mkdir()
    retries = []

    def pin(name: str) -> bool:
        if name == "originals/a.jpg" and not retries:
            (media / "originals/a2.jpg").write_bytes(b"cleaned")
            db.execute(
                "UPDATE picture SET file = 'originals/a2.jpg' WHERE file = 'originals/a.jpg'"
            )
            (media / name).unlink()
        return pin_file(media, name, staging)

    names, missing = consistent_snapshot(database, staging, COLUMNS, pin, on_retry=retries.append)
    assert retries == [1]
    assert names == {"originals/a2.jpg", "originals/b.jpg"} and missing == set()
    pinned = {
        p.relative_to(staging / "media").as_posix() for p in (staging / "media").rglob("*.jpg")
    }
    assert pinned == names
    copy = sqlite3.connect(staging / SQLITE_MEMBER)
    assert {f for (f,) in copy.execute("SELECT file FROM picture WHERE file <> ''")} == names


def test_a_file_gone_before_the_backup_is_reported_missing(live, tmp_path):
    database, media, _ = live
    (media / "originals/b.jpg").unlink()
    staging = tmp_path / "staging"
    staging.mkdir()
    retries = []
    names, missing = consistent_snapshot(
        database, staging, COLUMNS, lambda n: pin_file(media, n, staging), on_retry=retries.append
    )
    assert names == {"originals/a.jpg"} and missing == {"originals/b.jpg"}
    assert retries == [1]  # looked twice, then believed it


def test_a_file_of_a_store_that_is_no_folder_is_copied_or_reported_missing(tmp_path):
    """As from an S3 bucket: read through the storage, written to its member's place."""
    kept = {"originals/a.jpg": b"picture"}

    def open_stored(name: str) -> io.BytesIO:
        if name not in kept:
            raise FileNotFoundError(name)
        return io.BytesIO(kept[name])

    staging = tmp_path / "staging"
    staging.mkdir()
    assert copy_file(open_stored, "originals/a.jpg", staging)
    assert (staging / "media/originals/a.jpg").read_bytes() == b"picture"
    assert not copy_file(open_stored, "originals/gone.jpg", staging)
    assert not (staging / "media/originals/gone.jpg").exists()


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../x", "media/../../x", "a//b", "./a", "", "a\\b"]
)
def test_unsafe_names_are_refused(name):
    with pytest.raises(BadArchive):
        safe_relative(name)


def manifest_for(files: dict) -> Manifest:
    return Manifest(
        gaitu_version="0.1.0", created="2026-12-01T00:00:00+00:00", database=SQLITE_MEMBER,
        vendor="sqlite", migrations={"editor": ["0001_initial"]},
        counts={"users": 1, "edits": 0, "files": 1}, files=files,
    )  # fmt: skip


def test_an_archive_round_trips_and_is_checked(tmp_path):
    db, picture = tmp_path / "db", tmp_path / "pic"
    db.write_bytes(b"database")
    picture.write_bytes(b"picture")
    sources = {SQLITE_MEMBER: db, "media/originals/p.jpg": picture}
    manifest = manifest_for({m: sha256_of(p) for m, p in sources.items()})
    archive = tmp_path / "a.tar.gz"
    with archive.open("wb") as out:
        write_archive(out, manifest, sources)
    with tarfile.open(archive) as tar:
        assert tar.getnames()[0] == MANIFEST
    into = tmp_path / "out"
    into.mkdir()
    back = unpack(archive, into)
    assert back == manifest
    assert back.media_names() == ["originals/p.jpg"]
    assert (into / "media/originals/p.jpg").read_bytes() == b"picture"


def test_a_foreign_manifest_is_refused():
    with pytest.raises(BadArchive, match="not a Gaitu backup"):
        Manifest.from_json(b'{"format": "something-else"}')
    with pytest.raises(BadArchive, match="not JSON"):
        Manifest.from_json(b"\xff")


def test_a_symlink_member_is_refused(tmp_path):
    archive = tmp_path / "link.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info, io.BytesIO())
    into = tmp_path / "out"
    into.mkdir()
    with pytest.raises(BadArchive, match="other than files"):
        unpack(archive, into)
