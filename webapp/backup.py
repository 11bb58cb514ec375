"""The backup archive: its layout, its manifest, and the checks a restore makes of it.

Plain Python (no Django): the commands `manage.py backup` and `manage.py restore` do the Django
side. An archive is a gzipped tar holding, at its top level,

    manifest.json          what is in it: versions, counts, and a sha256 of every other member
    gaitu.sqlite3          the database, one self-contained SQLite file (or data.json, below)
    secret_key             the installation's key: sessions, CSRF and share links keep working
    media/<name>           every stored picture the database names, under the name it names
                           (from the data folder or the S3 bucket, wherever they are kept)

A database other than SQLite is written as Django's own serialization (data.json, as
`dumpdata --natural-foreign --natural-primary` writes it) instead of gaitu.sqlite3.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

FORMAT = "gaitu-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "gaitu.sqlite3"
JSON_MEMBER = "data.json"
SECRET_KEY_MEMBER = "secret_key"  # noqa: S105  (a file name, not a key)
MEDIA_PREFIX = "media/"
CHUNK = 1 << 20


class BadArchive(Exception):
    """The archive is damaged, altered, or not a Gaitu backup; the message says which."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def media_member(name: str) -> str:
    """The archive member of a stored file named `name` (as a FileField names it)."""
    return MEDIA_PREFIX + safe_relative(name)


def safe_relative(name: str) -> str:
    """A relative path with no way out of the folder it is taken in; BadArchive otherwise."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or "\\" in name or any(p in ("..", "") for p in path.parts):
        raise BadArchive(f"unsafe path in the archive: {name!r}")
    if path.parts[0] == "." or name != str(path):
        raise BadArchive(f"unsafe path in the archive: {name!r}")
    return name


# --- The database --------------------------------------------------------------------------


def snapshot_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database into `target` through SQLite's online backup API.

    The copy is one consistent moment of the database, whatever the web server and the worker
    write meanwhile (WAL readers never block writers). It is left as a single file in rollback
    journal mode, so nothing of it lives in a -wal file beside it.
    """
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            (result,) = dst.execute("PRAGMA quick_check").fetchone()
            if result != "ok":
                raise sqlite3.DatabaseError(f"the copy fails its check: {result}")
        finally:
            dst.close()
    finally:
        src.close()


def named_files(database: Path, columns: Iterable[tuple[str, str]]) -> set[str]:
    """The stored files that the rows of a (copied) SQLite database name.

    `columns` are (table, column) pairs of file fields; an empty name is no file. A table or
    column that is not there yet (its migration not applied) names none.
    """
    names: set[str] = set()
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        for table, column in columns:
            present = {row[1] for row in db.execute("SELECT * FROM pragma_table_info(?)", (table,))}
            if column not in present:
                continue
            query = f'SELECT "{column}" FROM "{table}" WHERE "{column}" <> \'\''  # noqa: S608
            names.update(name for (name,) in db.execute(query) if name)
    finally:
        db.close()
    return names


def pin_file(media_root: Path, name: str, staging: Path) -> bool:
    """Hard-link (or else copy) the stored file `name` to its member's place under `staging`;
    False when it is not there. A link is instant and takes no space, and the file it pins
    stays whole in the backup whatever happens to the original afterwards."""
    source = media_root / name
    target = staging / media_member(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except FileNotFoundError:
        return False
    except OSError:  # another file system (a media mount), or links not allowed
        try:
            shutil.copyfile(source, target)
        except FileNotFoundError:
            return False
    return True


def copy_file(open_stored: Callable[[str], IO[bytes]], name: str, staging: Path) -> bool:
    """Copy the stored file `name`, read through `open_stored` (from a store that is no folder
    of this machine's, such as an S3 bucket), to its member's place under `staging`; False when
    it is not there (open_stored raised FileNotFoundError)."""
    target = staging / media_member(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open_stored(name) as source, target.open("wb") as copy:
            shutil.copyfileobj(source, copy, CHUNK)
    except FileNotFoundError:
        target.unlink(missing_ok=True)
        return False
    return True


def consistent_snapshot(
    source: Path,
    staging: Path,
    columns: Iterable[tuple[str, str]],
    pin: Callable[[str], bool],
    attempts: int = 5,
    on_retry: Callable[[int], None] = lambda missing: None,
) -> tuple[set[str], set[str]]:
    """Snapshot a live SQLite database into staging/gaitu.sqlite3 and pin, right after it,
    every file its rows name; (the names pinned, the names missing). See pinned_snapshot."""
    copy = staging / SQLITE_MEMBER
    columns = list(columns)

    def take() -> set[str]:
        copy.unlink(missing_ok=True)
        snapshot_sqlite(source, copy)
        return named_files(copy, columns)

    return pinned_snapshot(take, staging, pin, attempts, on_retry)


def pinned_snapshot(
    take: Callable[[], set[str]],
    staging: Path,
    pin: Callable[[str], bool],
    attempts: int = 5,
    on_retry: Callable[[int], None] = lambda missing: None,
) -> tuple[set[str], set[str]]:
    """Take a snapshot of a live database (`take`, which writes it into staging and returns
    the stored names its rows give) and pin, right after it, every file it names; (the names
    pinned, the names missing).

    A file deleted between the snapshot and its pin (an edit finishing replaces its upload
    with the cleaned original; a person deletes an edit) is caught by taking a fresh snapshot,
    whose rows name what replaced it, or nothing. Stored files are never rewritten (their names
    are random), so a file pinned for an earlier snapshot is the same for a later one. What
    stays missing through two snapshots in a row was gone before the backup began.
    """
    pinned: set[str] = set()
    previously_missing: set[str] | None = None
    names: set[str] = set()
    missing: set[str] = set()
    for attempt in range(1, attempts + 1):
        names = take()
        missing = {name for name in sorted(names - pinned) if not pin(name)}
        pinned |= names - missing
        if not missing or missing == previously_missing:
            break
        if attempt < attempts:
            on_retry(len(missing))
        previously_missing = missing
    for name in pinned - names:  # pinned for an earlier snapshot, named no longer
        (staging / media_member(name)).unlink()
    return names - missing, missing


def sqlite_facts(database: Path, user_table: str, edit_table: str) -> dict[str, Any]:
    """Counts and the applied migrations of a (copied) SQLite database, for the manifest."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        users = db.execute(f'SELECT COUNT(*) FROM "{user_table}"').fetchone()[0]  # noqa: S608
        edits = db.execute(f'SELECT COUNT(*) FROM "{edit_table}"').fetchone()[0]  # noqa: S608
        rows = db.execute("SELECT app, name FROM django_migrations ORDER BY app, name").fetchall()
    finally:
        db.close()
    return {"users": users, "edits": edits, "migrations": migrations_by_app(rows)}


def migrations_by_app(rows: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in rows:
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


# --- The manifest --------------------------------------------------------------------------


@dataclass
class Manifest:
    gaitu_version: str
    created: str  # ISO 8601, UTC
    database: str  # SQLITE_MEMBER or JSON_MEMBER
    vendor: str  # the database it was taken from: "sqlite", "postgresql", ...
    migrations: dict[str, list[str]]
    counts: dict[str, int]
    files: dict[str, str]  # member -> sha256, every member but the manifest
    missing: list[str] = field(default_factory=list)  # named by a row, gone from the disk

    def to_json(self) -> bytes:
        body = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "gaitu_version": self.gaitu_version,
            "created": self.created,
            "database": self.database,
            "vendor": self.vendor,
            "migrations": self.migrations,
            "counts": self.counts,
            "missing": self.missing,
            "files": self.files,
        }
        return json.dumps(body, indent=2, sort_keys=False).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            raise BadArchive("its manifest.json is not JSON") from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise BadArchive("its manifest.json is not a Gaitu backup's")
        if body.get("format_version") != FORMAT_VERSION:
            raise BadArchive(
                f"it is a Gaitu backup of format {body.get('format_version')!r}; "
                f"this Gaitu reads format {FORMAT_VERSION}"
            )
        try:
            manifest = cls(
                gaitu_version=str(body["gaitu_version"]),
                created=str(body["created"]),
                database=str(body["database"]),
                vendor=str(body["vendor"]),
                migrations={str(a): [str(n) for n in ns] for a, ns in body["migrations"].items()},
                counts={str(k): int(v) for k, v in body["counts"].items()},
                files={str(k): str(v) for k, v in body["files"].items()},
                missing=[str(name) for name in body.get("missing", [])],
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BadArchive("its manifest.json lacks what a Gaitu backup's has") from None
        if manifest.database not in (SQLITE_MEMBER, JSON_MEMBER):
            raise BadArchive(f"its manifest names no database it knows: {manifest.database!r}")
        for member in manifest.files:
            safe_relative(member)
            if member == MANIFEST:
                raise BadArchive("its manifest lists itself")
        if manifest.database not in manifest.files:
            raise BadArchive("its manifest lists no database")
        return manifest

    def media_names(self) -> list[str]:
        """The stored names of the media files in the archive."""
        return sorted(m.removeprefix(MEDIA_PREFIX) for m in self.files if m.startswith("media/"))


# --- Writing and reading the archive -------------------------------------------------------


def write_archive(out: BinaryIO, manifest: Manifest, sources: dict[str, Path]) -> None:
    """A gzipped tar of the manifest (first) and of every member from its staged file."""
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        _add_bytes(tar, MANIFEST, manifest.to_json())
        for member in sorted(sources):
            info = tar.gettarinfo(str(sources[member]), arcname=member)
            info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
            with sources[member].open("rb") as f:
                tar.addfile(info, f)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def unpack(archive: Path, into: Path) -> Manifest:
    """Unpack an archive into the empty folder `into` and check every member against the
    manifest: nothing missing, nothing extra, every sha256 the same. BadArchive otherwise."""
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            for info in members:
                safe_relative(info.name)
                if not info.isfile():
                    raise BadArchive(f"it holds something other than files: {info.name!r}")
            if MANIFEST not in names:
                raise BadArchive("it has no manifest.json: not a Gaitu backup")
            if len(set(names)) != len(names):
                raise BadArchive("it holds a member twice")
            # The data filter refuses, once more, absolute paths, `..`, links and devices.
            tar.extractall(into, filter="data")
    except tarfile.FilterError as exc:
        raise BadArchive(f"it holds a member that may not be unpacked: {exc}") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError) and not archive.exists():
            raise BadArchive(f"there is no file {archive}") from None
        raise BadArchive(f"it is not a readable .tar.gz ({exc})") from None
    manifest = Manifest.from_json((into / MANIFEST).read_bytes())
    extra = set(names) - set(manifest.files) - {MANIFEST}
    if extra:
        raise BadArchive(f"it holds files its manifest does not list: {sorted(extra)[:3]}")
    for name, expected in sorted(manifest.files.items()):
        path = into / name
        if not path.is_file():
            raise BadArchive(f"{name} is listed in its manifest but not in the archive")
        if sha256_of(path) != expected:
            raise BadArchive(f"{name} is damaged or altered: its sha256 is not the manifest's")
    return manifest
