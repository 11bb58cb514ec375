"""Instruction search, the same for the gallery and the API: through an index on both profiles.

An instruction matches when it holds the query anywhere, whatever the case, as `icontains`
would: "sky" finds "Make the SKY blue", "蓝天" finds "蓝天白云". On SQLite the index is an FTS5
table with the trigram tokenizer (editor_edit_search, kept in step with editor_edit by the
triggers of migration 0012); on PostgreSQL a pg_trgm GIN index on the instruction, which
ILIKE uses. Either way only the person's own edits are ever chosen, with the other filters
(status, model), in the gallery's keyset order.
"""

from typing import Any

from django.contrib.auth.models import User
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Lookup, QuerySet
from django.db.models.sql.compiler import SQLCompiler

from .models import Edit

# Longest query searched for; more is cut off (a search box, not a document).
MAX_QUERY = 200
# Trigram indexes can only look up strings of 3 characters or more: a shorter query is
# matched row by row (see `chosen_edits`).
TRIGRAM = 3
# On SQLite, at most this many matches (anyone's) are taken from the index and looked up by
# id; more, and the person's edits are read newest first instead (see `_sqlite`).
FEW = 1000
# The ids of the edits (anyone's) whose instruction holds an FTS5 phrase, up to a number.
SQLITE_PROBE = (
    "SELECT editor_edit_search_row.edit_id FROM editor_edit_search "
    "JOIN editor_edit_search_row ON editor_edit_search_row.rowid = editor_edit_search.rowid "
    "WHERE editor_edit_search MATCH %s LIMIT %s"
)

type Sql = tuple[str, tuple[Any, ...]]


def chosen_edits(owner: User, query: str = "", status: str = "", model: str = "") -> QuerySet[Edit]:
    """The person's edits whose instruction holds `query` (whatever the case), in `status` and
    made with `model` if given, newest first (-created_at, -id: the gallery's keyset order).

    A query under 3 characters cannot use a trigram index: it is matched row by row
    (`icontains`) over this person's edits only, newest first through the owner index, until
    a page is full. Longer ones go through the index, see `_sqlite` for SQLite's two ways.
    """
    edits = Edit.objects.filter(owner=owner)
    if status in Edit.Status.values:
        edits = edits.filter(status=status)
    if model:
        edits = edits.filter(model=model)
    # NUL is no text anyone types, and PostgreSQL refuses it in a parameter.
    query = query.replace("\x00", "").strip()[:MAX_QUERY]
    vendor = connections[edits.db].vendor
    if not query:
        pass
    elif len(query) < TRIGRAM or vendor not in ("sqlite", "postgresql"):
        edits = edits.filter(instruction__icontains=query)
    elif vendor == "postgresql":
        # PostgreSQL weighs the trigram index against the owner index with its statistics.
        edits = edits.filter(_InstructionILike(F("instruction"), like_pattern(query)))
    else:
        edits = _sqlite(edits, owner, query, status, model)
    return edits.order_by("-created_at", "-id")


def _sqlite(
    edits: QuerySet[Edit], owner: User, query: str, status: str, model: str
) -> QuerySet[Edit]:
    """SQLite has no statistics here to choose between the FTS index and the owner index, so
    one bounded look into the index chooses (an extra query, the same for every search):

    - at most FEW edits of anyone's match: those, by id, filtered by owner (and status and
      model) without their indexes, so that SQLite looks them up by id and sorts the few,
      instead of walking the owner index past every one of a big gallery's edits;
    - more: the words are common, and walking the person's edits newest first (owner index,
      `icontains`) fills a page after a few rows, where taking every match from the index
      would cost as much as there are matches (25,000 rows: 45 ms, against 0.1 ms).
    The second way's worst case is words common in others' galleries and absent from this
    person's: it reads all of this person's edits, as every search did before the index.
    """
    with connections[edits.db].cursor() as cursor:
        cursor.execute(SQLITE_PROBE, [fts_phrase(query), FEW + 1])
        found = [row[0] for row in cursor.fetchall()]
    if len(found) > FEW:
        return edits.filter(instruction__icontains=query)
    few = Edit.objects.filter(_Unindexed(F("owner"), owner.pk), pk__in=found)
    if status in Edit.Status.values:
        few = few.filter(_Unindexed(F("status"), status))
    if model:
        few = few.filter(_Unindexed(F("model"), model))
    return few


def fts_phrase(query: str) -> str:
    """`query` as one FTS5 phrase: quoted, its quotes doubled, so that what a person types
    (`"`, `AND`, `*`, `NEAR(`, a column name and colon) is only ever text to look for."""
    return '"' + query.replace('"', '""') + '"'


def like_pattern(query: str) -> str:
    """A LIKE pattern for `query` anywhere, its own `%`, `_` and `\\` taken literally."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _Unindexed(Lookup):
    """`column = value`, written so that SQLite will not use an index for it (`+column`):
    the index to use is the one on the id."""

    lookup_name = "gaitu_unindexed"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> Sql:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"+{lhs} = {rhs}", (*lhs_params, *rhs_params)


class _InstructionILike(Lookup):
    """ILIKE on the column itself (not Django's UPPER(…) LIKE UPPER(…)), the form that the
    pg_trgm GIN index on editor_edit.instruction answers."""

    lookup_name = "gaitu_ilike"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> Sql:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", (*lhs_params, *rhs_params)
