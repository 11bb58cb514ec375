"""The picture store, whichever it is: the data folder (FileSystemStorage) or an S3 bucket
(django-storages' S3Storage, webapp/settings/scale.py).

Pictures are written, read and deleted through Django's storage API everywhere. What is here
is what that API does slowly or not at all: reading a stored file as it comes (the media
views, the export download, the backup), and listing everything stored with the time each
was written (check_media, restore).
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeGuard

from django.core.files.storage import FileSystemStorage, Storage, default_storage

try:
    from botocore.exceptions import ClientError
    from storages.backends.s3 import S3Storage
except ImportError:  # the embedded profile has no S3 library, and needs none
    ClientError = S3Storage = None


class StoredStream(NamedTuple):
    """A stored file opened for one read from start to end, and its size in bytes."""

    body: IO[bytes]
    size: int


def picture_storage() -> Storage:
    """The store, as the settings say now: STORAGES["default"], in which every FileField of
    Gaitu's keeps its files (pictures, exports and imports alike)."""
    return default_storage


def is_local(storage: Storage) -> TypeGuard[FileSystemStorage]:
    """Whether the store is a folder of this machine's (the data folder's media)."""
    return isinstance(storage, FileSystemStorage)


def is_bucket(storage: Storage) -> bool:
    return S3Storage is not None and isinstance(storage, S3Storage)


def where(storage: Storage) -> str:
    """The store, as a person finds it: a folder, or s3://bucket/prefix."""
    if is_local(storage):
        return str(storage.location)
    if is_bucket(storage):
        bucket: Any = storage
        return f"s3://{bucket.bucket_name}/{_prefix(bucket)}"
    return type(storage).__name__


def open_stream(storage: Storage, name: str) -> StoredStream:
    """The stored file `name`, to be read once, as it comes; FileNotFoundError when it is not
    there (anything else that goes wrong is raised as it is).

    From a bucket this is the body of the object's GET as it arrives: nothing is copied to
    memory or to the disk first, as storage.open() would (it downloads the whole object before
    the first byte can be read). From the data folder it is the file itself.
    """
    if not is_bucket(storage):
        opened = storage.open(name, "rb")
        return StoredStream(opened, opened.size)
    # open() asks for the object's head, which turns a missing one into FileNotFoundError,
    # and gives an S3File holding the boto3 object (its key has the storage's prefix).
    s3_file: Any = storage.open(name, "rb")
    obj = s3_file.obj
    try:
        answer = obj.get()
    except ClientError as error:  # deleted between the two requests
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            raise FileNotFoundError(f"File does not exist: {name}") from None
        raise
    return StoredStream(answer["Body"], int(answer["ContentLength"]))


def stored_files(storage: Storage) -> dict[str, float]:
    """Every file in the store, by the name a FileField gives it, with the time it was last
    written (seconds since the epoch)."""
    if is_local(storage):
        return _files_in_folder(Path(storage.location))
    if is_bucket(storage):
        # One listing request per thousand objects, each with its time: no request per file.
        prefix = _prefix(storage)
        return {
            obj.key[len(prefix) :]: obj.last_modified.timestamp()
            for obj in _objects(storage)
            if not obj.key.endswith("/")  # a "folder" a bucket console may have made
        }
    return {name: storage.get_modified_time(name).timestamp() for name in _listed(storage, "")}


def holds_files(storage: Storage) -> bool:
    """Whether anything at all is stored (one small request for a bucket)."""
    if is_local(storage):
        root = Path(storage.location)
        return root.is_dir() and any(path.is_file() for path in root.rglob("*"))
    if is_bucket(storage):
        return any(True for _obj in _objects(storage, limit=1))
    return next(_listed(storage, ""), None) is not None


def _prefix(storage: Any) -> str:
    location = str(storage.location).strip("/")
    return f"{location}/" if location else ""


def _objects(storage: Any, limit: int | None = None) -> Iterator[Any]:
    objects = storage.bucket.objects.filter(Prefix=_prefix(storage))
    return iter(objects.limit(limit) if limit else objects)


def _files_in_folder(root: Path) -> dict[str, float]:
    found: dict[str, float] = {}
    for folder, _dirs, files in os.walk(root):
        for file in files:
            path = Path(folder, file)
            try:
                found[path.relative_to(root).as_posix()] = path.lstat().st_mtime
            except FileNotFoundError:  # deleted while the walk went on
                continue
    return found


def _listed(storage: Storage, folder: str) -> Iterator[str]:
    """Every file name under `folder`, through listdir alone (any other storage)."""
    folders, files = storage.listdir(folder)
    for file in files:
        yield f"{folder}{file}"
    for sub in folders:
        yield from _listed(storage, f"{folder}{sub}/")
