"""The Simplified Chinese catalogue is complete, well-formed, compiled and used.

These tests fail when someone adds a translatable string without translating it, leaves a
fuzzy or empty entry, breaks a placeholder, or forgets to run compilemessages.
"""

import ast
import gettext as gnu_gettext
import hashlib
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
LOCALE = "zh_Hans"
PO_PATH = ROOT / "locale" / LOCALE / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
# The same folders the documented makemessages command leaves out.
IGNORE_PATTERNS = [".venv/*", "data/*", "tests/*", "bench/*"]


# --- a small .po parser ---------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)  # one item, or msgstr[0..n]
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(literal: str) -> str:
    # A PO string literal uses C escapes, which Python's literal syntax reads the same way.
    return ast.literal_eval(literal)


def parse_po(text: str) -> list[Entry]:
    """Parse PO text into entries (the header is the entry whose msgid is empty).

    Handles msgctxt, msgid_plural, msgstr[n], strings continued over several lines and
    `#,` flags. Obsolete `#~` entries and other comments are skipped.
    """
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None  # which field continuation lines extend
    pending_flags: set[str] = set()
    seen_msgstr = False

    def finish():
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            target = None
            continue
        if line.startswith("#"):
            if line.startswith("#,"):
                if current is not None and seen_msgstr:
                    finish()
                pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            elif current is not None and seen_msgstr and not line.startswith("#~"):
                finish()
            target = None
            continue
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"line {number}: string continuation outside an entry")
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += _unquote(line)
            else:
                setattr(current, name, getattr(current, name) + _unquote(line))
            continue
        match = _KEYWORD.match(line)
        if not match:
            raise ValueError(f"line {number}: cannot parse {raw!r}")
        keyword, index, literal = match.groups()
        value = _unquote(literal)
        # msgctxt or msgid opens a new entry, unless a msgid follows its own msgctxt.
        if keyword in ("msgctxt", "msgid") and (current is None or seen_msgstr):
            finish()
            current = Entry(flags=pending_flags, line=number)
            pending_flags = set()
            seen_msgstr = False
        if current is None:
            raise ValueError(f"line {number}: {keyword} before msgid")
        if keyword.startswith("msgstr"):
            seen_msgstr = True
            position = int(index) if index is not None else 0
            if position != len(current.msgstr):
                raise ValueError(f"line {number}: msgstr[{position}] out of order")
            current.msgstr.append(value)
            target = ("msgstr", position)
        else:
            setattr(current, keyword, value)
            target = (keyword, None)
    finish()
    return entries


# --- checks ---------------------------------------------------------------------------------

# Python %-format placeholders (named or positional) and str.format-style {name} fields.
_PLACEHOLDER = re.compile(
    r"%(?:\([^)]+\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]|\{[A-Za-z_]\w*\}"
)


def placeholders(text: str) -> Counter:
    return Counter(_PLACEHOLDER.findall(text.replace("%%", "")))


def header_fields(entries: list[Entry]) -> dict[str, str]:
    header = next((e for e in entries if e.msgid == "" and e.msgctxt is None), None)
    if header is None or not header.msgstr:
        return {}
    pairs = (line.split(":", 1) for line in header.msgstr[0].splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def catalogue_problems(entries: list[Entry], nplurals: int = 1) -> list[str]:
    """Everything wrong with a Simplified Chinese catalogue, one line per problem."""
    problems = []
    for entry in entries:
        if entry.msgid == "" and entry.msgctxt is None:
            continue  # the header
        where = f"line {entry.line}: {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            problems.append(f"{where} is marked fuzzy")
        if entry.msgid_plural is None:
            expected = placeholders(entry.msgid)
            if len(entry.msgstr) != 1:
                problems.append(f"{where} needs exactly one msgstr")
        else:
            # With one plural form, msgstr[0] stands for every count, so it must carry
            # the placeholders of the plural msgid too.
            expected = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
            if len(entry.msgstr) != nplurals:
                problems.append(
                    f"{where} has {len(entry.msgstr)} plural forms, expected {nplurals}"
                )
        for n, text in enumerate(entry.msgstr):
            if not text.strip():
                problems.append(f"{where} has no translation (msgstr[{n}])")
            elif placeholders(text) != expected:
                problems.append(
                    f"{where} placeholders differ: msgid has {sorted(expected.elements())}, "
                    f"msgstr[{n}] has {sorted(placeholders(text).elements())}"
                )
    return problems


def translated_keys(entries: list[Entry]) -> set[tuple[str | None, str]]:
    return {
        e.key
        for e in entries
        if e.msgid and "fuzzy" not in e.flags and e.msgstr and all(s.strip() for s in e.msgstr)
    }


@pytest.fixture(scope="module")
def committed() -> list[Entry]:
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


# --- the checker itself ---------------------------------------------------------------------

SNIPPET = r"""
# Translator comment
#, fuzzy
msgid ""
msgstr ""
"Language: zh_Hans\n"
"Plural-Forms: nplurals=1; plural=0;\n"

#: a.py:1
msgid "Translated"
msgstr "已翻译"

#: a.py:2
msgid "Missing"
msgstr ""

#: a.py:3
#, fuzzy, python-format
msgid "Guessed %(name)s"
msgstr "猜的 %(name)s"

#: a.py:4
#, python-format
msgid ""
"Lost %(limit)d "
"placeholder"
msgstr ""
"丢了"
"占位符"

#: a.py:5
#, python-format
msgid "One picture"
msgid_plural "%(count)d pictures"
msgstr[0] ""

msgctxt "verb"
msgid "Edit"
msgstr "编辑"

#~ msgid "Old"
#~ msgstr "旧"
"""


def test_parser_reads_continuations_plurals_context_and_flags():
    entries = parse_po(SNIPPET)
    by_id = {e.msgid: e for e in entries}
    assert set(by_id) == {
        "",
        "Translated",
        "Missing",
        "Guessed %(name)s",
        "Lost %(limit)d placeholder",
        "One picture",
        "Edit",
    }
    assert header_fields(entries)["Language"] == "zh_Hans"
    assert by_id["Lost %(limit)d placeholder"].msgstr == ["丢了占位符"]
    assert by_id["Guessed %(name)s"].flags == {"fuzzy", "python-format"}
    assert by_id["Translated"].flags == set()
    assert by_id["One picture"].msgid_plural == "%(count)d pictures"
    assert by_id["One picture"].msgstr == [""]
    assert by_id["Edit"].key == ("verb", "Edit")


def test_checker_reports_missing_fuzzy_and_broken_placeholders():
    problems = "\n".join(catalogue_problems(parse_po(SNIPPET)))
    assert "'Missing' has no translation" in problems
    assert "'Guessed %(name)s' is marked fuzzy" in problems
    assert "'Lost %(limit)d placeholder' placeholders differ" in problems
    assert "'One picture' has no translation (msgstr[0])" in problems
    assert "'Translated'" not in problems
    assert "'Edit'" not in problems
    assert translated_keys(parse_po(SNIPPET)) == {
        (None, "Translated"),
        (None, "Lost %(limit)d placeholder"),
        ("verb", "Edit"),
    }


def test_checker_wants_plural_placeholder_in_the_single_chinese_form():
    po = 'msgid "One picture"\nmsgid_plural "%(count)d pictures"\nmsgstr[0] "一张图片"\n'
    assert "placeholders differ" in "\n".join(catalogue_problems(parse_po(po)))
    fixed = po.replace("一张图片", "%(count)d 张图片")
    assert catalogue_problems(parse_po(fixed)) == []


# --- the committed catalogue ----------------------------------------------------------------


def test_header_declares_chinese_utf8_and_one_plural_form(committed):
    header = header_fields(committed)
    assert header.get("Language") == LOCALE
    assert header.get("Content-Type") == "text/plain; charset=UTF-8"
    assert header.get("Plural-Forms", "").replace(" ", "") == "nplurals=1;plural=0;"
    assert not any(e.msgid == "" and "fuzzy" in e.flags for e in committed)


def test_every_entry_is_translated_with_the_same_placeholders(committed):
    assert len(committed) > 50, "the catalogue looks truncated"
    assert catalogue_problems(committed) == []


def test_catalogue_covers_every_string_in_the_code(settings, tmp_path, monkeypatch, committed):
    """Extract the strings afresh from a copy of the code; each must be translated."""
    assert shutil.which("xgettext"), "GNU gettext is needed (apt-get install gettext)"
    before = hashlib.sha256(PO_PATH.read_bytes()).hexdigest()
    project = tmp_path / "project"
    output = tmp_path / "extracted"

    def skipped(directory, names):
        # Leave out what the makemessages command ignores, and every locale folder, so that
        # all extracted strings land in LOCALE_PATHS[0] and nothing real is written to.
        top = Path(directory) == ROOT
        return [
            name
            for name in names
            if name in {"locale", "__pycache__", "node_modules"}
            or name.startswith(".")
            or (top and name in {"data", "tests", "bench"})
        ]

    shutil.copytree(ROOT, project, ignore=skipped)
    settings.LOCALE_PATHS = [output]
    monkeypatch.chdir(project)
    call_command(
        "makemessages",
        locale=[LOCALE],
        ignore_patterns=IGNORE_PATTERNS,
        no_obsolete=True,
        verbosity=0,
    )

    fresh_path = output / LOCALE / "LC_MESSAGES" / "django.po"
    assert fresh_path.exists(), "makemessages wrote its catalogue somewhere else"
    fresh = {e.key for e in parse_po(fresh_path.read_text(encoding="utf-8")) if e.msgid}
    assert (None, "Edit a picture") in fresh, "extraction found nothing; is the copy complete?"

    untranslated = fresh - translated_keys(committed)
    assert not untranslated, (
        "strings in the code without a Chinese translation; run makemessages, translate "
        f"them in {PO_PATH.relative_to(ROOT)} and run compilemessages: "
        + ", ".join(repr(msgid) for _, msgid in sorted(untranslated, key=str))
    )
    assert hashlib.sha256(PO_PATH.read_bytes()).hexdigest() == before
    assert not list(project.rglob("django.po")), "makemessages wrote into the copied code"


def test_compiled_catalogue_matches_the_po(committed):
    """Catches a .po edited without running compilemessages afterwards."""
    assert MO_PATH.exists(), "run: python manage.py compilemessages"
    with MO_PATH.open("rb") as handle:
        mo = gnu_gettext.GNUTranslations(handle)
    stale = []
    for entry in committed:
        if not entry.msgid or entry.key not in translated_keys([entry]):
            continue
        if entry.msgid_plural is None:
            if entry.msgctxt is None:
                got = mo.gettext(entry.msgid)
            else:
                got = mo.pgettext(entry.msgctxt, entry.msgid)
            if got != entry.msgstr[0]:
                stale.append(f"{entry.msgid!r}: .mo has {got!r}")
        else:
            for count in (1, 2, 5):
                if entry.msgctxt is None:
                    got = mo.ngettext(entry.msgid, entry.msgid_plural, count)
                else:
                    got = mo.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, count)
                if got != entry.msgstr[0]:
                    stale.append(f"{entry.msgid!r} (n={count}): .mo has {got!r}")
    assert not stale, "django.mo is out of date; run: python manage.py compilemessages\n" + (
        "\n".join(stale)
    )


# --- Django actually uses it ----------------------------------------------------------------


def test_django_serves_the_chinese_catalogue():
    from editor.failures import FAILURE_MESSAGES as FAILURE_CODES

    with translation.override("zh-hans"):
        assert translation.gettext("Edit a picture") == "编辑图片"
        assert translation.gettext("Log out") == "退出登录"
        message = translation.ngettext(
            "At most %(limit)d picture can be edited at once.",
            "At most %(limit)d pictures can be edited at once.",
            3,
        ) % {"limit": 3}
        assert message == "一次最多可编辑 3 张图片。"
        assert str(FAILURE_CODES["key_rejected"]).startswith("网关拒绝了 API 密钥")
    with translation.override("en"):
        assert translation.gettext("Edit a picture") == "Edit a picture"
