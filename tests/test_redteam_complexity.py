"""Readers whose time grew faster than their input: each bounded by an alarm here at the size that hung.

A model's kernel reply of SEARCH/REPLACE openers and separators (48,000 characters: 285 s, cubic), a proof task
header `Require Import` + 30 blanks + `Arith.` (minutes, exponential), a statement with 800 blanks after
`1 <= n` (36 s, cubic), a 40,000-character quoted word in a CFD case's dictionary (6.5 s, quadratic) and 20,000
unclosed `FoamFile{` in a mesh's `boundary` (12 s, quadratic). What each reads is unchanged (checked against the
expressions they replace on random inputs where the reading was rewritten).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.kernel_search._llm import apply_reply, edit_blocks
from agents.proof_search._memory import MAX_ANALYSED_CHARS
from agents.proof_search._targeted import applies
from tests.conftest import within_seconds
from tools import TaskError
from tools.cfd.cases._generic_control import _refuse_foreign_libraries
from tools.cfd.openfoam._patches import _without_header
from tools.proofs._problems import problem_from_statement


@pytest.fixture(autouse=True)
def alarm() -> Iterator[None]:
    with within_seconds(5):
        yield


def test_a_reply_of_openers_and_separators_is_read_in_one_pass() -> None:
    assert edit_blocks("<<<<<<< SEARCH\n\n=======\n" * 20_000) == []
    reply = "Faster:\n<<<<<<< SEARCH\nint i = 0;\n=======\nint i = 1;\n>>>>>>> REPLACE\n"
    assert apply_reply(reply, "kernel { int i = 0; }", "diff") == "kernel { int i = 1; }"


def test_a_header_of_many_blanks_is_read_in_time() -> None:
    problem = problem_from_statement("user/t", "Require Import" + " " * 40 + "Arith.", "Theorem t : 1 = 1.")
    applies("ring-simplify-hyps", problem)


def test_a_statement_of_many_blanks_is_read_in_time() -> None:
    statement = "Theorem t (n : nat) : 1 <= n" + " " * (MAX_ANALYSED_CHARS - 100) + "/\\ 1 = 1."
    applies("induction-from", problem_from_statement("user/t", "", statement))


def test_a_long_quoted_word_in_a_case_is_read_in_time_and_patterns_are_still_seen() -> None:
    _refuse_foreign_libraries("constant/transportProperties", b'"' + b"." * 4_000_000 + b'" ;\n')
    with pytest.raises(TaskError, match="libraries"):
        _refuse_foreign_libraries("system/controlDict", b'"abc";"li[b]s" ("libmine.so");\n')


def test_many_unclosed_headers_are_read_in_time() -> None:
    text = "FoamFile{" * 200_000
    assert _without_header(text) == text
    assert _without_header("FoamFile { version 2.0; }\n3 (a b c)") == "\n3 (a b c)"
