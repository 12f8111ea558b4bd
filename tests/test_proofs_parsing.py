"""Coq text handling without a prover: sentences, statements, problems, diagnostics, goals, data."""

from __future__ import annotations

import json

import pytest

from tools.proofs import (
    DATA_DIR,
    ProblemFormatError,
    UnterminatedSourceError,
    blank_literals,
    excluded,
    load_split,
    normalize,
    parse_diagnostics,
    parse_goals,
    parse_statement,
    problem_from_text,
    split_attributes,
    split_sentences,
)

# Captured from coqc 8.16.1 (see test_proofs_coq.py for the same parse on live output).
CAPTURED_STDERR = """File "./diag.v", line 4, characters 46-62:
Error: The reference undefined_tactic was not found in the current
environment.

File "./diag2.v", line 2, characters 0-39:
Warning: To avoid stack overflow, large numbers in nat are interpreted as
applications of Init.Nat.of_num_uint. [abstract-large-number,numbers]
Error: There are pending proofs in file ./diag2.v: m.
"""


def test_sentences_respect_comments_strings_bullets() -> None:
    text = (
        "Lemma a : True. (* a comment. with (* nested. *) dots *)\n"
        'Proof.\n  - idtac "x. y". exact I.\n  + { auto. }\nQed.'
    )
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Lemma a : True.",
        "Proof.",
        "-",
        'idtac "x. y".',
        "exact I.",
        "+",
        "{",
        "auto.",
        "}",
        "Qed.",
    ]
    assert [s.kind for s in sentences][2] == "bullet"
    assert text[sentences[3].start : sentences[3].end] == 'idtac "x. y".'


def test_qualified_names_and_recursive_notations_do_not_end_sentences_but_ellipsis_does() -> None:
    # As coqc 8.16 reads them: `tac...` (Proof with) ends a sentence, `..` in a notation does not.
    sentences = split_sentences("rewrite Nat.add_0_r.\napply (f 1.5)...\nexact I.")
    assert [s.code for s in sentences] == ["rewrite Nat.add_0_r.", "apply (f 1.5)...", "exact I."]
    notation = 'Notation "[[ x ; .. ; y ]]" := (cons x .. (cons y nil) ..).\nCheck x.(f).'
    assert [s.code for s in split_sentences(notation)] == [
        'Notation "[[ x ; .. ; y ]]" := (cons x .. (cons y nil) ..).',
        "Check x.(f).",
    ]


def test_comments_hide_strings_and_strings_hide_comment_ends() -> None:
    # `(* "*)" *)` is one comment: Coq lexes the string inside it, so the first `*)` closes nothing.
    text = '(* "*)" Admitted. *) Lemma a : True. Proof. idtac "(* Qed."; exact I. Qed.'
    assert [s.code for s in split_sentences(text)] == [
        "Lemma a : True.",
        "Proof.",
        'idtac "(* Qed."; exact I.',
        "Qed.",
    ]
    blanked = blank_literals(text)
    assert len(blanked) == len(text)
    assert "Admitted" not in blanked and "(* Qed" not in blanked and 'idtac "' in blanked


def test_attributes_are_read_with_their_strings() -> None:
    groups, rest = split_attributes('#[deprecated(note="] Admitted.")] #[local] Definition a := 1.')
    assert groups == ['deprecated(note="] Admitted.")', "local"]
    assert rest == "Definition a := 1."
    with pytest.raises(UnterminatedSourceError):
        split_attributes("#[local Definition a := 1.")


def test_unterminated_comment_is_an_error() -> None:
    with pytest.raises(UnterminatedSourceError):
        split_sentences("Lemma a : True. (* never closed")


def test_normalize_ignores_layout_and_comments() -> None:
    assert normalize("forall  x,\n  (* c *) x = x.") == normalize("forall x, x = x.")


def test_parse_statement_binders_and_type() -> None:
    statement = parse_statement("Theorem t (x y : nat) (h : (x < y)%nat) : x <> y.")
    assert (statement.name, statement.binders, statement.type) == ("t", "(x y : nat) (h : (x < y)%nat)", "x <> y")
    assert statement.goal() == "forall (x y : nat) (h : (x < y)%nat), x <> y"
    assert parse_statement("Lemma u: forall l : list nat, l = l.").goal() == "forall l : list nat, l = l"
    with pytest.raises(ProblemFormatError):
        parse_statement("Definition d := 1.")


def test_every_minif2f_file_is_one_problem_named_after_it() -> None:
    for split in ("valid", "test"):
        problems = load_split(split)
        assert len(problems) == 244
        for problem in problems:
            assert problem.id.endswith("/" + problem.name)
            assert problem.statement.split()[1].rstrip(":") == problem.name
            parse_statement(problem.statement)


def test_header_assumptions_and_trailing_theorems_are_recorded() -> None:
    floor = next(p for p in load_split("valid") if p.name == "amc12a_2016_p3")
    assert floor.assumed == ("Rfloor", "Rfloor_spec")
    imo = next(p for p in load_split("valid") if p.name == "imo_1966_p5")
    assert imo.notes and "imo_1966_p5'" in imo.notes[0]


def test_exclusions_name_existing_problems_with_a_reason() -> None:
    entries = excluded()
    assert len(entries) == 13
    names = {f"{split}/{p.name}" for split in ("valid", "test") for p in load_split(split)}
    for key, entry in entries.items():
        assert key in names
        assert entry["reason"] and entry["error"]
    record = json.loads((DATA_DIR / "excluded.json").read_text())
    assert record["coq"].startswith("8.16")
    assert (DATA_DIR / "LICENSE").read_text().startswith("MIT License")
    assert "b60affae5d9b81eb097424e3143c40165ccbe97b" in (DATA_DIR / "SOURCE.md").read_text()


def test_problem_without_theorem_is_refused() -> None:
    with pytest.raises(ProblemFormatError):
        problem_from_text("x", "Require Import Arith.\nDefinition d := 1.\n")


def test_diagnostics_from_captured_output() -> None:
    source = "\n".join(["a"] * 3) + "\n  intros n. (* ∑∑ *) rewrite Nat.add_0_r; undefined_tactic.\n"
    diagnostics = parse_diagnostics(CAPTURED_STDERR, source)
    assert [d.severity for d in diagnostics] == ["error", "warning", "error"]
    first = diagnostics[0]
    # bytes 46-62 on a line with two 3-byte characters before them are characters 42-58
    assert (first.line, first.column, first.end_column) == (4, 42, 58)
    assert source.splitlines()[3][first.column : first.end_column] == "undefined_tactic"
    assert first.message == "The reference undefined_tactic was not found in the current environment."
    assert diagnostics[1].message.endswith("[abstract-large-number,numbers]")
    assert diagnostics[2].line == 0 and "pending proofs" in diagnostics[2].message


def test_goals_printout() -> None:
    shown = (
        "2 goals\n  \n  a, b : nat\n  f : nat ->\n      nat\n  H : a = b\n"
        "  ============================\n  a + b = 2 * b\n\ngoal 2 is:\n True\n"
    )
    state = parse_goals(shown)
    assert state is not None and len(state.goals) == 2
    assert state.goals[0].hypotheses == ("a, b : nat", "f : nat -> nat", "H : a = b")
    assert state.goals[0].conclusion == "a + b = 2 * b"
    assert state.goals[1].conclusion == "True"
    empty = parse_goals("No more goals.")
    assert empty is not None and empty.goals == ()
    assert parse_goals("nothing here") is None
