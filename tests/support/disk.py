"""A disk that is nearly full, or fills up mid-write, for the storage tests."""

import errno
import shutil
from collections import namedtuple

from django.core.files.storage import FileSystemStorage

MB = 2**20
DiskUsage = namedtuple("DiskUsage", "total used free")


def say_free_space(monkeypatch, mb: float) -> None:
    """Have shutil.disk_usage say that much is free (in MB), on any disk."""
    free = int(mb * MB)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: DiskUsage(10**12, 10**12 - free, free))


def fill_disk_mid_write(monkeypatch, where: str = "") -> None:
    """Every picture written (under `where`, a folder of the media) runs out of disk after a
    part of it is written, as a real full disk does."""
    real_save = FileSystemStorage._save

    def save_part(self: FileSystemStorage, name: str, content) -> str:
        if not name.startswith(where):
            return real_save(self, name, content)
        real_save(self, name, content)
        with open(self.path(name), "r+b") as written:
            written.truncate(10)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", save_part)
