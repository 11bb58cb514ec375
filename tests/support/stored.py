"""The picture store as the tests see it: through Django's storage API, so that the same
assertions hold in the data folder (the embedded profile) and in an S3 bucket (the scale-out
profile, and tests/web/test_pictures_in_s3.py in both).

The names are listed with storage.listdir (a bucket: with boto3's own client), not with the
listing check_media uses (editor/picture_store.py), so that the tests of that listing do not
check it against itself.

In the scale-out profile the tests that run in-process all store into the one bucket of their
settings; a test module that looks at everything stored imports own_bucket, which gives each
of its tests a new, empty bucket (as tests/conftest.py gives each one a media folder).
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages

from tests.support.servers import S3_KEY, running_servers

SCALE_PROFILE = os.environ.get("GAITU_TEST_PROFILE") == "scale"


def picture_storage() -> Storage:
    """Where the pictures' FileFields store now (the settings of the test may have changed it)."""
    from editor.models import SourceImage

    return SourceImage._meta.get_field("file").storage


def stored_names(storage: Storage | None = None) -> list[str]:
    """Every name stored, sorted: as a FileField names its file."""
    storage = storage or picture_storage()
    if hasattr(storage, "bucket_name"):  # S3Storage
        # Not its listdir: s3rver leaves out of a listing by folders (Delimiter="/") every
        # folder that holds only folders, so "originals/" would hide "originals/2026/".
        return sorted(_keys(storage))
    try:
        return sorted(_names_under(storage, ""))
    except FileNotFoundError:  # a media folder not made yet: nothing stored
        return []


def _keys(storage: Any) -> Iterator[str]:
    pages = storage.connection.meta.client.get_paginator("list_objects_v2")
    for page in pages.paginate(Bucket=storage.bucket_name):
        yield from (item["Key"] for item in page.get("Contents", ()))


def _names_under(storage: Storage, folder: str) -> Iterator[str]:
    folders, files = storage.listdir(folder)
    yield from (f"{folder}{name}" for name in files)
    for sub in folders:
        yield from _names_under(storage, f"{folder}{sub}/")


def stored_bytes(name: str, storage: Storage | None = None) -> bytes:
    """The bytes stored under this name."""
    with (storage or picture_storage()).open(name, "rb") as stored:
        return stored.read()


def replace_stored(name: str, data: bytes, storage: Storage | None = None) -> None:
    """Store other bytes under the same name, as a hand or a bad disk would."""
    storage = storage or picture_storage()
    storage.delete(name)
    assert storage.save(name, ContentFile(data)) == name


def remove_stored(name: str, storage: Storage | None = None) -> None:
    """Delete a stored file behind Gaitu's back: its row stays."""
    storage = storage or picture_storage()
    storage.delete(name)
    assert not storage.exists(name)


# --- Buckets ---------------------------------------------------------------------------------


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_KEY,
        region_name="us-east-1",
    )


def new_bucket(endpoint: str) -> str:
    name = f"gaitu-{uuid.uuid4().hex[:16]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def bucket_objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    """What the bucket holds, read with boto3 alone: each object's key and bytes."""
    client = s3_client(endpoint)
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", ())
    ]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def bucket_settings(endpoint: str, bucket: str) -> dict[str, Any]:
    """The STORAGES entry the scale-out profile's settings make for this bucket
    (webapp.settings.scale.picture_storage, from the GAITU_S3_* variables)."""
    from webapp.settings import gaitu
    from webapp.settings.scale import picture_storage as scale_picture_storage

    variables = {
        "GAITU_S3_BUCKET": bucket,
        "GAITU_S3_ENDPOINT_URL": endpoint,
        "GAITU_S3_REGION": "us-east-1",
        "GAITU_S3_ACCESS_KEY_ID": S3_KEY,
        "GAITU_S3_SECRET_ACCESS_KEY": S3_KEY,
        "GAITU_S3_ADDRESSING_STYLE": "path",
    }
    with mock.patch.multiple(gaitu, **variables):
        return scale_picture_storage()


def use_bucket(settings: Any, endpoint: str, bucket: str) -> None:
    """Keep the pictures in that bucket from now on, for the rest of the test.

    Changing STORAGES through pytest-django's settings fixture sends setting_changed, on which
    Django forgets its storages and default_storage the one it wrapped: every FileField, which
    stores through default_storage, writes to the bucket at its next save.
    """
    settings.STORAGES = {**settings.STORAGES, "default": bucket_settings(endpoint, bucket)}


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> Iterator[str]:
    """An S3 server for the run: the scale-out profile's, or else an s3rver of our own."""
    if SCALE_PROFILE:
        yield os.environ["GAITU_S3_ENDPOINT_URL"]
        return
    with running_servers(tmp_path_factory.mktemp("s3"), "s3") as server:
        yield server.s3_endpoint


@pytest.fixture(autouse=True)
def own_bucket(settings) -> None:
    """In the scale-out profile, a new bucket for each test of the module that imports this."""
    if SCALE_PROFILE:
        endpoint = os.environ["GAITU_S3_ENDPOINT_URL"]
        use_bucket(settings, endpoint, new_bucket(endpoint))


# --- An installation in processes of its own (tests/support/live.py) -------------------------


def storage_of(env: dict[str, str], data_dir: Path) -> Storage:
    """The picture store of the installation with this environment and data folder."""
    if env.get("GAITU_S3_BUCKET"):
        return storages.create_storage(
            bucket_settings(env["GAITU_S3_ENDPOINT_URL"], env["GAITU_S3_BUCKET"])
        )
    return FileSystemStorage(location=data_dir / "media")
