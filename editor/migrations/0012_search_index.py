"""An index for instruction search (editor/search.py), one per database, and the gallery's
keyset order (owner, newest first, then id) in one index."""

from collections.abc import Callable

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# SQLite: an FTS5 index with the trigram tokenizer, which matches any substring of 3 characters
# or more whatever the script (Chinese has no spaces between words) and folds case. Its rows
# are numbered by editor_edit_search_row, not by editor_edit's own rowid, which SQLite may
# renumber (VACUUM, Django's copy of a table it alters). Contentless: the text is in
# editor_edit already; the triggers hand the index the old text to take out.
# The triggers belong to editor_edit: a later migration that makes SQLite copy the table
# (most AlterField do) drops them and must create them again (tests/web/test_gallery_search_index.py
# fails until it does).
SQLITE_FORWARD = [
    "CREATE TABLE editor_edit_search_row "
    "(rowid INTEGER PRIMARY KEY, edit_id char(32) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE editor_edit_search USING fts5"
    "(instruction, content='', tokenize='trigram')",
    "INSERT INTO editor_edit_search_row (edit_id) SELECT id FROM editor_edit ORDER BY created_at",
    "INSERT INTO editor_edit_search (rowid, instruction) SELECT r.rowid, e.instruction "
    "FROM editor_edit_search_row r JOIN editor_edit e ON e.id = r.edit_id",
    """CREATE TRIGGER editor_edit_search_insert AFTER INSERT ON editor_edit BEGIN
        INSERT INTO editor_edit_search_row (edit_id) VALUES (new.id);
        INSERT INTO editor_edit_search (rowid, instruction)
            SELECT rowid, new.instruction FROM editor_edit_search_row WHERE edit_id = new.id;
    END""",
    # Django's save() writes every column: only a changed instruction is indexed again.
    """CREATE TRIGGER editor_edit_search_update AFTER UPDATE OF instruction ON editor_edit
    WHEN old.instruction IS NOT new.instruction BEGIN
        INSERT INTO editor_edit_search (editor_edit_search, rowid, instruction)
            SELECT 'delete', rowid, old.instruction FROM editor_edit_search_row
            WHERE edit_id = old.id;
        INSERT INTO editor_edit_search (rowid, instruction)
            SELECT rowid, new.instruction FROM editor_edit_search_row WHERE edit_id = new.id;
    END""",
    """CREATE TRIGGER editor_edit_search_delete AFTER DELETE ON editor_edit BEGIN
        INSERT INTO editor_edit_search (editor_edit_search, rowid, instruction)
            SELECT 'delete', rowid, old.instruction FROM editor_edit_search_row
            WHERE edit_id = old.id;
        DELETE FROM editor_edit_search_row WHERE edit_id = old.id;
    END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS editor_edit_search_delete",
    "DROP TRIGGER IF EXISTS editor_edit_search_update",
    "DROP TRIGGER IF EXISTS editor_edit_search_insert",
    "DROP TABLE IF EXISTS editor_edit_search",
    "DROP TABLE IF EXISTS editor_edit_search_row",
]
# PostgreSQL: a trigram GIN index that `instruction ILIKE '%…%'` uses. pg_trgm ships with
# PostgreSQL and is a trusted extension (13 and later): the database's owner may create it.
POSTGRESQL_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX editor_edit_instruction_trgm ON editor_edit USING gin (instruction gin_trgm_ops)",
]
POSTGRESQL_BACKWARD = ["DROP INDEX IF EXISTS editor_edit_instruction_trgm"]


def _run(
    statements: dict[str, list[str]],
) -> Callable[[StateApps, BaseDatabaseSchemaEditor], None]:
    """Run the statements for the database at hand (none for another vendor: search then
    falls back to icontains, editor/search.py)."""

    def run(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("editor", "0011_mask_and_providers"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="edit", name="edit_owner_recent"),
        migrations.AddIndex(
            model_name="edit",
            index=models.Index(fields=["owner", "-created_at", "-id"], name="edit_owner_recent"),
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}),
        ),
    ]
