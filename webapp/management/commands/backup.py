"""Back up a running Gaitu into one archive: database, stored pictures, secret key, manifest."""

import os
import secrets
import shutil
import sqlite3
import tempfile
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder

from editor.models import Edit
from editor.picture_store import is_local, open_stream, picture_storage
from webapp.backup import (
    JSON_MEMBER,
    MEDIA_PREFIX,
    SECRET_KEY_MEMBER,
    SQLITE_MEMBER,
    BadArchive,
    Manifest,
    consistent_snapshot,
    copy_file,
    media_member,
    migrations_by_app,
    pin_file,
    pinned_snapshot,
    sha256_of,
    sqlite_facts,
    write_archive,
)

# Snapshots taken at most, when files its rows name are deleted before they are pinned (an
# edit finishing replaces its upload by the cleaned original; a person deletes an edit).
SNAPSHOT_ATTEMPTS = 5
# Left out of a JSON dump: made again by migrate, and their natural keys are what rows use.
JSON_EXCLUDE = ["contenttypes", "auth.permission"]


def gaitu_version() -> str:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def file_columns() -> list[tuple[str, str]]:
    """(table, column) of every file field of every model: where rows name stored files."""
    return [(model._meta.db_table, field.column or field.name) for model, field in file_fields()]


def file_fields() -> list[tuple[type[models.Model], models.FileField]]:
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField)
    ]


class Command(BaseCommand):
    help = (
        "Back up this Gaitu, running or not, into one .tar.gz: the database (SQLite's online "
        "backup, one consistent moment while the web server and worker write), every stored "
        "picture that database names (copied from the data folder or the S3 bucket), the "
        "secret key, and a manifest with a sha256 of every "
        "file. Restore it with `manage.py restore`. The archive holds the secret key and every "
        "person's pictures and password hashes: keep it as secret as the data folder itself. "
        "It is written with mode 0600, under a temporary name first."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            help="the archive to write (default gaitu-backup-YYYYMMDD-HHMM.tar.gz here)",
        )
        parser.add_argument(
            "--format",
            choices=["auto", "sqlite", "json"],
            default="auto",
            help="how the database is kept: sqlite (a copy of the SQLite file) or json "
            "(Django's own serialization, for any database); auto picks sqlite on SQLite",
        )
        parser.add_argument(
            "--overwrite", action="store_true", help="replace the archive if it exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = datetime.now(UTC)
        destination = Path(options["path"] or f"gaitu-backup-{now:%Y%m%d-%H%M}.tar.gz")
        if destination.exists() and not options["overwrite"]:
            raise CommandError(f"{destination} already exists (--overwrite replaces it).")
        if not destination.parent.is_dir():
            raise CommandError(f"There is no folder {destination.parent} to write into.")
        vendor = connection.vendor
        fmt = options["format"]
        if fmt == "auto":
            fmt = "sqlite" if vendor == "sqlite" else "json"
        if fmt == "sqlite" and vendor != "sqlite":
            raise CommandError(
                f"The database is {vendor}, not SQLite: there is no SQLite file to copy. Use "
                "--format json (Django's own serialization of every row), or that database's "
                "own dump tool (e.g. pg_dump) together with a copy of the media folder."
            )

        staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=settings.DATA_DIR))
        try:
            if fmt == "sqlite":
                database, facts, names, missing = self.snapshot(staging)
            else:
                database, facts, names, missing = self.dump(staging)
            self.write(destination, now, vendor, staging, database, facts, names, missing)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    # --- The database and the files it names, as of one moment ----------------------------

    def snapshot(self, staging: Path) -> tuple[str, dict[str, Any], set[str], set[str]]:
        """A consistent copy of the SQLite database and, pinned right after it, every file
        its rows name.

        Files are pinned by a hard link (instant, no space), so one deleted afterwards stays
        in the backup. A file deleted between the copy and its pin (an edit finishing
        replaces its upload with the cleaned original) is caught by taking a fresh snapshot,
        whose rows name what replaced it; what stays missing through two snapshots was gone
        before the backup began, and is reported.
        """
        source = Path(connection.settings_dict["NAME"])
        if not source.is_file():
            raise CommandError(f"There is no database at {source} to back up.")
        copy = staging / SQLITE_MEMBER
        try:
            names, missing = consistent_snapshot(
                source,
                staging,
                file_columns(),
                lambda name: self.pin(name, staging),
                attempts=SNAPSHOT_ATTEMPTS,
                on_retry=self.retrying,
            )
        except sqlite3.Error as exc:  # say what, not a traceback
            raise CommandError(f"Could not copy the database {source}: {exc}") from None
        try:
            facts = sqlite_facts(copy, get_user_model()._meta.db_table, Edit._meta.db_table)
        except sqlite3.Error as exc:
            raise CommandError(
                f"The database copy is not a Gaitu database ({exc}); run `manage.py migrate`?"
            ) from None
        return SQLITE_MEMBER, facts, names, missing

    def dump(self, staging: Path) -> tuple[str, dict[str, Any], set[str], set[str]]:
        """Django's own serialization of every row, in one transaction (on PostgreSQL a
        repeatable-read one: one moment of the database), and, pinned right after it, every
        file those rows name; a fresh dump when files went away meanwhile, as for SQLite."""
        facts: dict[str, Any] = {}

        def take() -> set[str]:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                call_command(
                    "dumpdata",
                    natural_foreign=True,
                    natural_primary=True,
                    exclude=JSON_EXCLUDE,
                    output=str(staging / JSON_MEMBER),
                    verbosity=0,
                )
                names: set[str] = set()
                for model, field in file_fields():
                    values = model._default_manager.exclude(**{field.attname: ""})
                    names.update(n for n in values.values_list(field.attname, flat=True) if n)
                facts.update(
                    users=get_user_model()._default_manager.count(),
                    edits=Edit.objects.count(),
                    migrations=migrations_by_app(
                        MigrationRecorder(connection).applied_migrations().keys()
                    ),
                )
            return names

        names, missing = pinned_snapshot(
            take,
            staging,
            lambda name: self.pin(name, staging),
            attempts=SNAPSHOT_ATTEMPTS,
            on_retry=self.retrying,
        )
        return JSON_MEMBER, facts, names, missing

    def retrying(self, count: int) -> None:
        self.stdout.write(
            f"{count} file(s) went away between the snapshot and their copy (edits "
            "finishing or deleted meanwhile); taking a fresh snapshot."
        )

    def pin(self, name: str, staging: Path) -> bool:
        """Put the stored file `name` into the staging folder; False when it is not there.

        From the data folder by a hard link (or else a copy); from a bucket by a download, so
        the archive holds the pictures wherever they are kept.
        """
        try:
            media_member(name)
        except BadArchive:
            self.stderr.write(f"Skipped a stored name that leaves the media folder: {name!r}")
            return False
        storage = picture_storage()
        if is_local(storage):
            return pin_file(Path(settings.MEDIA_ROOT), name, staging)
        return copy_file(lambda stored: open_stream(storage, stored).body, name, staging)

    # --- The archive ----------------------------------------------------------------------

    def write(
        self,
        destination: Path,
        now: datetime,
        vendor: str,
        staging: Path,
        database: str,
        facts: dict[str, Any],
        names: set[str],
        missing: set[str],
    ) -> None:
        sources = {database: staging / database}
        sources.update({media_member(name): staging / media_member(name) for name in names})
        key_file = Path(settings.DATA_DIR) / "secret_key"
        if key_file.is_file():
            shutil.copyfile(key_file, staging / SECRET_KEY_MEMBER)
            sources[SECRET_KEY_MEMBER] = staging / SECRET_KEY_MEMBER
            if key_file.read_text().strip() != settings.SECRET_KEY:
                self.stderr.write(
                    "SECRET_KEY is set in the environment: the archive holds the data folder's "
                    "secret_key file, not that key. Set the same SECRET_KEY where you restore."
                )
        else:
            self.stderr.write(
                "There is no secret_key file (SECRET_KEY comes from the environment): set the "
                "same SECRET_KEY where you restore, or sessions and share links change."
            )
        manifest = Manifest(
            gaitu_version=gaitu_version(),
            created=now.isoformat(timespec="seconds"),
            database=database,
            vendor=vendor,
            migrations=facts["migrations"],
            counts={
                "users": facts["users"],
                "edits": facts["edits"],
                "files": len(names),
            },
            files={member: sha256_of(path) for member, path in sorted(sources.items())},
            missing=sorted(missing),
        )
        partial = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                write_archive(out, manifest, sources)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, destination)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        for name in sorted(missing):
            self.stderr.write(f"Missing from the picture store, so not in the backup: {name}")
        size = destination.stat().st_size / 2**20
        media_count = sum(1 for m in sources if m.startswith(MEDIA_PREFIX))
        self.stdout.write(
            f"Backed up {facts['users']} people, {facts['edits']} edits and {media_count} "
            f"stored files into {destination} ({size:.1f} MB)."
        )
        self.stdout.write(
            "The archive holds the secret key, password hashes and every picture: keep it as "
            "secret as the data folder."
        )
