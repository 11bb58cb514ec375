"""Every code the pure packages can say has a sentence for people, in both languages."""

import re

import pytest
from django.utils import translation

from editor.failures import (
    FAILURE_MESSAGES,
    PICTURE_PROBLEMS,
    REASON_MESSAGES,
    failure_message,
    picture_problem,
)
from gateway.failures import CODES, Failure
from imaging import InvalidImage
from imaging.types import PROBLEMS


def test_every_failure_code_has_a_sentence():
    assert set(FAILURE_MESSAGES) == CODES
    assert {code for code, _reason in REASON_MESSAGES} <= CODES


def test_a_finer_reason_is_said_and_an_unknown_code_reads_as_ours():
    assert "output limit" in str(failure_message("interrupted", "cut_off"))
    assert failure_message("interrupted") == FAILURE_MESSAGES["interrupted"]
    assert failure_message("no-such-code") == FAILURE_MESSAGES["internal"]


def test_a_failure_code_outside_the_catalogue_is_refused():
    with pytest.raises(ValueError, match="made_up"):
        Failure("made_up")


def test_every_picture_problem_has_a_sentence_with_the_same_figures():
    assert set(PICTURE_PROBLEMS) == set(PROBLEMS)
    for problem, english in PROBLEMS.items():
        placeholders = set(re.findall(r"%\((\w+)\)s", english))
        assert set(re.findall(r"%\((\w+)\)s", str(PICTURE_PROBLEMS[problem]))) == placeholders


def test_a_picture_problem_is_shown_in_the_readers_language():
    problem = InvalidImage("too_large", size=25.3, limit=20)
    assert str(problem) == "The file is 25.3 MB; the limit is 20 MB."
    with translation.override("zh-hans"):
        shown = picture_problem(problem)
    assert "25.3" in shown and "20" in shown
    assert re.search(r"[\u4e00-\u9fff]", shown)
