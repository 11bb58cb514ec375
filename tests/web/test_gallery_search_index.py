"""Instruction search through an index (editor/search.py, editor/migrations/0012_search_index.py)
on whichever database this run has: SQLite's FTS5 trigram table, kept in step by triggers, or
PostgreSQL's pg_trgm GIN index. What it finds is what `icontains` found; the gallery and the
API's list use the same function, and a page costs the same number of queries at any size."""

import re
from urllib.parse import unquote

import pytest
from django.db import connection
from django.db.models import F
from django.urls import reverse

from editor import search
from editor.models import Edit
from editor.search import SQLITE_PROBE, chosen_edits, fts_phrase, like_pattern
from studio.views.gallery import gallery_edits

INSTRUCTIONS = [
    "Make the SKY a deep blue",
    "把天空变成蓝天白云",
    "Remove the background, keep 100% of the subject",
    "snake_case and a back\\slash",
    'say "cheese" AND smile *',
]


@pytest.fixture(params=["few", "many"])
def both_ways(request, monkeypatch):
    """On SQLite, a search takes its matches from the index when there are few, and reads the
    person's edits newest first when there are many (editor/search.py `_sqlite`): with FEW
    at 0, every search here counts as one of many."""
    if request.param == "many":
        monkeypatch.setattr(search, "FEW", 0)
    return request.param


@pytest.fixture
def edits(owner, both_ways):
    return {
        text: Edit.objects.create(owner=owner, instruction=text, model="gpt-4o-image")
        for text in INSTRUCTIONS
    }


def found(owner, query: str) -> set[str]:
    return {edit.instruction for edit in chosen_edits(owner, query)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sky", {"Make the SKY a deep blue"}),
        ("sKy A dEeP", {"Make the SKY a deep blue"}),  # a substring across words, any case
        ("蓝天白云", {"把天空变成蓝天白云"}),  # Chinese: no spaces, and found by its substring
        ("天空变", {"把天空变成蓝天白云"}),
        ("白云", {"把天空变成蓝天白云"}),  # 2 characters: below a trigram, matched row by row
        ("100%", {"Remove the background, keep 100% of the subject"}),
        ("e_c", {"snake_case and a back\\slash"}),  # `_` is itself, not any character
        ("k\\s", {"snake_case and a back\\slash"}),
        ('"cheese" AND', {'say "cheese" AND smile *'}),
        ("  deep blue  ", {"Make the SKY a deep blue"}),  # the box's spaces do not count
        ("", set(INSTRUCTIONS)),
        ("nowhere to be found", set()),
    ],
)
def test_search_finds_what_icontains_found(owner, edits, query, expected):
    assert found(owner, query) == expected
    if query.strip():
        plain = Edit.objects.filter(owner=owner, instruction__icontains=query.strip())
        assert {edit.instruction for edit in plain} == expected


@pytest.mark.parametrize(
    "query", ['"', '""', "AND", "OR", "NOT", "*", "NEAR(", "instruction:", "^", "'", "(", "%", "_"]
)
def test_search_syntax_typed_by_a_person_is_only_text(owner, edits, owner_client, query):
    expected = {text for text in INSTRUCTIONS if query.lower() in text.lower()}
    assert found(owner, query) == expected
    page = owner_client.get(reverse("gallery"), {"q": query})
    assert page.status_code == 200
    assert len(re.findall(r'id="tile-', page.text)) == len(expected)


def test_the_phrase_and_the_pattern_quote_what_they_are_given():
    assert fts_phrase('a "b" AND *') == '"a ""b"" AND *"'
    assert like_pattern("5%_\\") == "%5\\%\\_\\\\%"


def test_the_index_follows_inserts_updates_and_deletes(owner):
    edit = Edit.objects.create(owner=owner, instruction="a red balloon", model="gpt-4o-image")
    assert found(owner, "red ball") == {"a red balloon"}
    edit.instruction = "a green kite"
    edit.save()
    assert found(owner, "red ball") == set()
    assert found(owner, "green") == {"a green kite"}
    Edit.objects.filter(pk=edit.pk).update(instruction="a yellow boat")  # no save(): SQL alone
    assert found(owner, "green") == set()
    assert found(owner, "yellow boat") == {"a yellow boat"}
    edit.progress = 50
    edit.save(update_fields=["progress"])  # not the instruction: still found
    assert found(owner, "yellow boat") == {"a yellow boat"}
    edit.delete()
    assert found(owner, "yellow boat") == set()
    again = Edit.objects.create(owner=owner, instruction="a yellow boat again", model="x")
    assert found(owner, "yellow boat") == {"a yellow boat again"}
    if connection.vendor == "sqlite":  # the index itself holds no more than the table
        with connection.cursor() as cursor:
            for words, ids in [("red ball", []), ("green", []), ("yellow boat", [again.pk.hex])]:
                cursor.execute(SQLITE_PROBE, [fts_phrase(words), 10])
                assert [row[0] for row in cursor.fetchall()] == ids, words
            cursor.execute("SELECT count(*) FROM editor_edit_search_row")
            assert cursor.fetchone()[0] == Edit.objects.count()
            cursor.execute(
                "INSERT INTO editor_edit_search (editor_edit_search) VALUES ('integrity-check')"
            )


def test_another_persons_edits_never_appear(owner, stranger, owner_client, owner_token, client):
    Edit.objects.create(owner=owner, instruction="my blue sky", model="gpt-4o-image")
    theirs = Edit.objects.create(owner=stranger, instruction="their blue sky", model="gpt-4o-image")
    Edit.objects.create(owner=stranger, instruction="蓝天 too", model="gpt-4o-image")
    assert found(owner, "blue sky") == {"my blue sky"}
    assert found(owner, "蓝天") == set()
    page = owner_client.get(reverse("gallery"), {"q": "blue sky"})
    assert "my blue sky" in page.text
    assert "their blue sky" not in page.text and str(theirs.pk) not in page.text
    listed = client.get(
        "/api/v1/edits", {"q": "blue sky"}, HTTP_AUTHORIZATION=f"Bearer {owner_token}"
    ).json()
    assert [edit["instruction"] for edit in listed["results"]] == ["my blue sky"]
    assert listed["count"] == 1


def test_the_api_searches_with_the_status_filter(owner, owner_token, client, edits):
    Edit.objects.filter(instruction__startswith="Make").update(status=Edit.Status.SUCCEEDED)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    blue = client.get("/api/v1/edits", {"q": "BLUE", "status": "succeeded"}, **auth).json()
    assert [edit["instruction"] for edit in blue["results"]] == ["Make the SKY a deep blue"]
    queued = client.get("/api/v1/edits", {"q": "blue", "status": "queued"}, **auth).json()
    assert queued["results"] == []
    chinese = client.get("/api/v1/edits", {"q": "蓝天白云"}, **auth).json()
    assert [edit["instruction"] for edit in chinese["results"]] == ["把天空变成蓝天白云"]
    too_long = client.get("/api/v1/edits", {"q": "x" * 201}, **auth)
    assert too_long.status_code == 400


def test_a_search_keeps_the_other_filters_and_the_scroll_order(owner, owner_client):
    made = [
        Edit.objects.create(owner=owner, instruction=f"sunset number {n}", model="gpt-4o-image")
        for n in range(30)
    ]
    Edit.objects.create(owner=owner, instruction="sunset, other model", model="flux-kontext-pro")
    Edit.objects.filter(pk=made[0].pk).update(status=Edit.Status.FAILED)
    first = owner_client.get(reverse("gallery"), {"q": "SUNSET NUM", "model": "gpt-4o-image"})
    cursor = unquote(re.search(r'after=([^"&]+)"', first.text).group(1))
    more = owner_client.get(
        reverse("gallery"),
        {"q": "SUNSET NUM", "model": "gpt-4o-image", "after": cursor},
        HTTP_HX_REQUEST="true",
    )
    shown = re.findall(r'id="tile-([0-9a-f-]+)"', first.text + more.text)
    newest_first = Edit.objects.filter(pk__in=[e.pk for e in made]).order_by("-created_at", "-id")
    assert shown == [str(edit.pk) for edit in newest_first]
    failed = owner_client.get(reverse("gallery"), {"q": "sunset", "status": "failed"})
    assert re.findall(r'id="tile-([0-9a-f-]+)"', failed.text) == [str(made[0].pk)]


PAGE_QUERIES = 6
SCROLL_QUERIES = 5


@pytest.mark.parametrize("count", [5, 50])
def test_a_page_costs_the_same_queries_at_any_size(
    owner, owner_client, count, both_ways, django_assert_num_queries
):
    Edit.objects.bulk_create(
        Edit(owner=owner, instruction=f"蓝天白云 blue sky {n}", model="gpt-4o-image")
        for n in range(count)
    )
    newest = Edit.objects.filter(owner=owner).order_by("-created_at", "-id")[0]
    cursor = f"{newest.created_at.isoformat()}_{newest.pk}"
    # A fixed number whatever the gallery's size: the session, the person, one page of edits
    # with their shares, their sources, their results (and the full page one more of its
    # own); none per tile. A search on SQLite adds one: its look into the index.
    probe = 1 if connection.vendor == "sqlite" else 0
    with django_assert_num_queries(PAGE_QUERIES):
        page = owner_client.get(reverse("gallery"))
    assert page.status_code == 200
    with django_assert_num_queries(PAGE_QUERIES + probe):
        owner_client.get(reverse("gallery"), {"q": "BLUE SKY"})
    with django_assert_num_queries(SCROLL_QUERIES + probe):
        owner_client.get(
            reverse("gallery"), {"q": "蓝天白云", "after": cursor}, HTTP_HX_REQUEST="true"
        )
    with django_assert_num_queries(SCROLL_QUERIES):
        owner_client.get(reverse("gallery"), {"after": cursor}, HTTP_HX_REQUEST="true")


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        # A test's table holds a few rows, which PostgreSQL would rather read whole, or
        # through any index and then sort: forbidding those shows which index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_search_plan_uses_the_index(owner, edits, both_ways):
    plan = _plan(gallery_edits(owner, "deep blue", "succeeded", "gpt-4o-image", None)[:25])
    if connection.vendor == "postgresql":
        # Which index serves a person's search is PostgreSQL's to weigh with its statistics
        # (the owner's for a common word, the trigram one for a rare one); what matters here
        # is that the condition is one the trigram index answers.
        condition = search._InstructionILike(F("instruction"), like_pattern("deep blue"))
        plan = _plan(Edit.objects.filter(condition))
        assert "editor_edit_instruction_trgm" in plan, plan
        return
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {SQLITE_PROBE}", ['"deep blue"', 10])
        probe = "\n".join(str(row[-1]) for row in cursor.fetchall())
    assert "editor_edit_search VIRTUAL TABLE INDEX" in probe, probe
    assert "editor_edit_search_row USING INTEGER PRIMARY KEY" in probe, probe
    if both_ways == "few":  # looked up by id, not by walking the person's (or a status's) edits
        assert "USING INDEX sqlite_autoindex_editor_edit_1 (id=?)" in plan, plan
        assert "edit_owner_recent" not in plan and "edit_status_queued" not in plan, plan
    else:  # the person's edits newest first, in the index's order: no sort
        assert "USING INDEX edit_owner_recent (owner_id=?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def test_a_scroll_step_seeks_the_keyset_index(owner, edits):
    newest = Edit.objects.filter(owner=owner).order_by("-created_at", "-id")[0]
    plan = _plan(gallery_edits(owner, "", "", "", (newest.created_at, newest.pk))[:25])
    assert "edit_owner_recent" in plan, plan
    if connection.vendor == "sqlite":  # a seek (a range on created_at), and no sort after it
        assert "created_at<?" in plan.replace(" ", ""), plan
        assert "TEMP B-TREE" not in plan, plan
