import sqlite3

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class EditorConfig(AppConfig):
    name = "editor"
    verbose_name = "Gaitu"

    def ready(self) -> None:
        connection_created.connect(_no_checkpoint_on_close)


def _no_checkpoint_on_close(sender, connection, **kwargs) -> None:
    """Each request runs in a thread of its own and closes its connection at the end; when it
    was the last one open, SQLite would copy the whole write-ahead log back into the database
    and delete it, on every request. The log is still checkpointed as it grows (every 1000
    pages), so only that needless work goes."""
    if connection.vendor == "sqlite":
        connection.connection.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)
