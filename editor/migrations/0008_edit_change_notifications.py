"""On PostgreSQL, every write to an edit or its share tells the live-update hubs at once.

A trigger sends a notification on the channel "gaitu_edits" (live/feeds.py, EDITS_CHANNEL)
for each row written, whatever wrote it: a request of any web process, a worker on any
machine, the admin, a queryset.update(), a shell. The notification carries nothing: the hubs
read what they follow anyway, and PostgreSQL delivers one notification per transaction for
any number of rows. Other databases are left as they are (SQLite's commit count is its feed).
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FUNCTION = "gaitu_edits_changed"
CHANNEL = "gaitu_edits"
TABLES = (("editor", "Edit"), ("editor", "Share"))  # Edit.CARD_STATE reads both

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END
$$
"""
CREATE_TRIGGER = (
    "CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {table} "
    f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
)
DROP_TRIGGER = "DROP TRIGGER IF EXISTS {trigger} ON {table}"
DROP_FUNCTION = f"DROP FUNCTION IF EXISTS {FUNCTION}()"


def _tables(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> list[str]:
    return [
        schema_editor.quote_name(apps.get_model(app, model)._meta.db_table) for app, model in TABLES
    ]


def add_notifications(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    for table in _tables(apps, schema_editor):
        schema_editor.execute(CREATE_TRIGGER.format(trigger=FUNCTION, table=table))


def remove_notifications(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _tables(apps, schema_editor):
        schema_editor.execute(DROP_TRIGGER.format(trigger=FUNCTION, table=table))
    schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [
        ("editor", "0007_edit_error_reason"),
    ]

    operations = [
        migrations.RunPython(add_notifications, remove_notifications, elidable=False),
    ]
