"""Restore a `manage.py backup` archive into an empty data folder, then bring it up to date."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from editor.models import Edit
from editor.picture_store import holds_files, is_local, picture_storage, where
from webapp.backup import (
    JSON_MEMBER,
    SECRET_KEY_MEMBER,
    SQLITE_MEMBER,
    BadArchive,
    Manifest,
    media_member,
    unpack,
)

EMPTY_ONLY = "restore goes into an empty data folder"


class Command(BaseCommand):
    help = (
        "Restore an archive made by `manage.py backup` into the configured GAITU_DATA_DIR (and "
        "database and S3 bucket, when they are configured), which must hold no database and "
        "no stored pictures yet (nothing is ever overwritten). "
        "Every file is checked against the archive's manifest (sha256) before anything is put "
        "in place; then the database, pictures and secret key are put in place and migrate "
        "brings a backup of an older Gaitu up to date."
    )
    requires_system_checks: list[str] = []
    verbosity = 1

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="the .tar.gz that `manage.py backup` wrote")

    def handle(self, *args: Any, **options: Any) -> None:
        archive = Path(options["archive"])
        self.verbosity = int(options["verbosity"])
        if not archive.is_file():
            raise CommandError(f"There is no file {archive}.")
        data_dir = Path(settings.DATA_DIR)
        self.refuse_unless_empty()
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
        try:
            try:
                manifest = unpack(archive, staging)
            except BadArchive as exc:
                raise CommandError(f"{archive} cannot be restored: {exc}.") from None
            self.stdout.write(
                f"{archive}: a backup of Gaitu {manifest.gaitu_version} made {manifest.created}, "
                f"{manifest.counts.get('users', 0)} people, {manifest.counts.get('edits', 0)} "
                f"edits, {manifest.counts.get('files', 0)} stored files; every sha256 matches."
            )
            self.refuse_newer(manifest)
            if manifest.database == SQLITE_MEMBER and connection.vendor != "sqlite":
                raise CommandError(
                    f"The archive holds a SQLite database, but this Gaitu is configured for "
                    f"{connection.vendor}. Restore it into a SQLite installation, or make the "
                    "backup with `manage.py backup --format json`."
                )
            self.refuse_unless_empty()  # once more, right before anything is put in place
            self.place(manifest, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if manifest.missing:
            self.stderr.write(
                f"{len(manifest.missing)} stored file(s) were already missing when the backup "
                "was made; `manage.py check_media` lists them."
            )
        if os.environ.get("SECRET_KEY"):
            self.stderr.write(
                "SECRET_KEY is set in the environment and overrides the restored secret_key: "
                "sessions and share links work only if it is the key of the backed-up Gaitu."
            )
        self.stdout.write(f"Restored into {data_dir}.")

    def refuse_unless_empty(self) -> None:
        storage = picture_storage()
        if connection.vendor == "sqlite":
            database = Path(connection.settings_dict["NAME"])
            for path in (database, Path(f"{database}-wal")):
                if path.exists():
                    raise CommandError(
                        f"There is already a database at {path}: {EMPTY_ONLY}. Point "
                        "GAITU_DATA_DIR at a new folder (or move this one away) and try again."
                    )
        elif Edit._meta.db_table in connection.introspection.table_names():
            raise CommandError(
                f"The configured {connection.vendor} database already has Gaitu's tables: "
                f"{EMPTY_ONLY}, and an empty database."
            )
        if holds_files(storage):
            what = (
                "GAITU_DATA_DIR at a new folder"
                if is_local(storage)
                else "GAITU_S3_BUCKET at an empty bucket"
            )
            raise CommandError(
                f"There are stored pictures in {where(storage)} already: {EMPTY_ONLY}. Point "
                f"{what} and try again."
            )

    def refuse_newer(self, manifest: Manifest) -> None:
        """A backup made by a newer Gaitu has migrations this one does not know."""
        known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
        unknown = [
            f"{app}.{name}"
            for app, names in manifest.migrations.items()
            for name in names
            if (app, name) not in known
        ]
        if unknown:
            raise CommandError(
                f"The archive was made by a newer Gaitu ({manifest.gaitu_version}): its database "
                f"has migrations this one does not know ({', '.join(unknown[:3])}). Restore it "
                "with that version or a later one."
            )

    def place(self, manifest: Manifest, staging: Path) -> None:
        storage = picture_storage()
        for name in manifest.media_names():
            if is_local(storage):
                put(staging / media_member(name), Path(settings.MEDIA_ROOT) / name)
            else:
                upload(staging / media_member(name), storage, name)
        if SECRET_KEY_MEMBER in manifest.files:
            # It replaces the one this command's own start may have generated just now.
            key_file = Path(settings.DATA_DIR) / "secret_key"
            partial = key_file.with_name(".secret_key.restoring")
            partial.unlink(missing_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write((staging / SECRET_KEY_MEMBER).read_bytes())
            os.replace(partial, key_file)
        else:
            self.stderr.write("The archive holds no secret key: sessions start afresh.")
        verbosity = max(0, self.verbosity - 1)
        if manifest.database == SQLITE_MEMBER:
            connection.close()
            put(staging / SQLITE_MEMBER, Path(connection.settings_dict["NAME"]))
            self.stdout.write("Database, pictures and secret key in place; migrating.")
            call_command("migrate", interactive=False, verbosity=verbosity)
            applied = MigrationRecorder(connection).applied_migrations().keys()
            had = {(app, name) for app, names in manifest.migrations.items() for name in names}
            if newer := len(set(applied) - had):
                self.stdout.write(f"Applied {newer} migration(s) newer than the backup.")
        else:
            self.stdout.write("Pictures and secret key in place; creating the tables.")
            call_command("migrate", interactive=False, verbosity=verbosity)
            self.stdout.write("Loading the rows.")
            call_command("loaddata", str(staging / JSON_MEMBER), verbosity=verbosity)


def upload(source: Path, storage: Storage, name: str) -> None:
    """Write a checked file into a store that is no folder here (the S3 bucket) under its
    name, never over one that is there."""
    if storage.exists(name):
        raise CommandError(f"{name} appeared in {where(storage)} meanwhile: {EMPTY_ONLY}.")
    with source.open("rb") as picture:
        stored = storage.save(name, File(picture, name=name))
    if stored != name:  # a storage that renames rather than overwrite: not ours to guess
        storage.delete(stored)
        raise CommandError(f"{where(storage)} stored {name} as {stored}: {EMPTY_ONLY}.")


def put(source: Path, target: Path) -> None:
    """Move a checked file into place, never over one that is there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # fails, rather than overwrite, when the target exists
    except FileExistsError:
        raise CommandError(f"{target} appeared meanwhile: {EMPTY_ONLY}.") from None
    except OSError:  # another file system: copy beside it, then link that into place
        partial = target.with_name(f".{target.name}.restoring")
        shutil.copyfile(source, partial)
        try:
            os.link(partial, target)
        except FileExistsError:
            raise CommandError(f"{target} appeared meanwhile: {EMPTY_ONLY}.") from None
        finally:
            partial.unlink()
    os.chmod(target, 0o600 if target.name == SQLITE_MEMBER else 0o644)
