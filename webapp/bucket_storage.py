"""The S3 storage of the scale-out profile (webapp/settings/scale.py): django-storages' own,
with its failed writes raised as OSError.

A write the bucket refuses (gone, no permission, over a quota, unreachable) then reaches the
same handling as a full or failing disk (editor/limits.storage_failure): the person is told
that the picture could not be stored (507 storage_error), nothing half-stored is kept, and no
botocore error turns into a 500.
"""

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from storages.backends.s3 import S3Storage


class BucketStorage(S3Storage):
    def _save(self, name: str, content: Any) -> str:
        try:
            saved: str = super()._save(name, content)
        except (BotoCoreError, ClientError) as error:
            raise OSError(f"the bucket did not take {name}: {error}") from error
        return saved
