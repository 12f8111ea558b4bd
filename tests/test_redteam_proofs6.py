"""The proof gate against a sixth red-team pass: rules that granted a permission read doubtful text.

- A mutual `Lemma a ... with b ...` (which Coq proves by a fixpoint, open to rocq #20455's guard bug) was
  allowed when the rules counted a `match` that Coq does not read as the keyword (`αmatch`, `matchʹ`,
  or the file's own notation `'match' x 'mend'`, which has no `end`), so the `with` looked inside it.
  A `match` now counts only standing alone, and a notation may not declare `match`, `with` or `end`.
- A structural `Function` passed as well-founded when a symbol `%)` moved the rules' bracket count in
  front of a `{measure ...}` Coq read inside a binder, and `Proof Mode "Classic".` closed the
  termination proof the rules expected. `Function` is refused outright, a notation's brackets must
  pair up among its own tokens, and `Proof Mode` is refused.
- Two quadratic scans (the tails of a word after a symbol, a declared symbol's trailing name
  characters) took minutes to hours on one long word: both are linear now.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.proof_gate_cases import (
    FALSE_CLAIM,
    FUNCTION_BEHIND_A_BRACKET_SYMBOL,
    MUTUAL_AFTER_GLUED_MATCH,
    MUTUAL_AFTER_NOTATION_MATCH,
    MUTUAL_BEFORE_PRIMED_MATCH,
)
from tests.test_redteam_proofs import assert_coq_proves_it_and_the_gate_refuses
from tools.proofs import CoqProver, problem_from_text
from verifiers.proofs import lint_proof_file, read_command
from verifiers.proofs._policy import DENIED_WORDS, _symbol_tails

PAYLOADS = {
    "mutual lemma after αmatch": (MUTUAL_AFTER_GLUED_MATCH, "states mutual definitions"),
    "mutual lemma before matchʹ": (MUTUAL_BEFORE_PRIMED_MATCH, "states mutual definitions"),
    "mutual lemma after a notation named match": (MUTUAL_AFTER_NOTATION_MATCH, "declares the keyword `match`"),
    "structural Function behind a bracket symbol": (FUNCTION_BEHIND_A_BRACKET_SYMBOL, "`Function` defines"),
}


def _problems(body: str, proof: str = "Proof. exact I. Qed.") -> list[str]:
    problem = problem_from_text("proofs/t", "Theorem t : True.\n")
    return lint_proof_file(problem, f"{body}\nTheorem t : True.\n{proof}\n").problems


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_each_payload_is_refused_by_the_rules(name: str) -> None:
    source, reason = PAYLOADS[name]
    problems = lint_proof_file(FALSE_CLAIM, source).problems
    assert any(reason in problem for problem in problems), problems


def test_the_function_payloads_other_steps_are_refused_too() -> None:
    problems = lint_proof_file(FALSE_CLAIM, FUNCTION_BEHIND_A_BRACKET_SYMBOL).problems
    assert any("brackets do not pair up" in problem for problem in problems), problems
    assert any("Proof Mode" in problem for problem in problems), problems


@pytest.mark.parametrize(
    "body",
    [
        'Notation "x %) y" := (prod x y) (at level 80).',
        'Notation "x ) y" := (prod x y) (at level 80).',
        'Notation "{ x" := (x) (at level 0).',
        'Infix "+(" := plus (at level 50).',
        "Notation \"'with' x\" := (x) (at level 0).",
        "Notation \"x 'end'\" := (x) (at level 0).",
        'Tactic Notation "Qed" := idtac.',
    ],
)
def test_a_notation_that_moves_what_the_rules_count_is_refused(body: str) -> None:
    problems = _problems(body)
    assert any("is refused" in problem or "names a tactic" in problem for problem in problems), problems


@pytest.mark.parametrize(
    "body",
    [
        "Definition f (n : nat) := match n with 0 => 1 | S m => m end.",
        "Definition f (n : nat) := (match n with 0 => 1 | S m => m end).",
        "Definition f (n : nat) :=\n  match n with\n  | 0 => 1\n  | S m => match m with 0 => 2 | S k => k end\n  end.",
        'Notation "[ x ]" := (cons x nil) (at level 0).',
        'Notation "(| x |)" := (x) (at level 0).',
        'Notation "x ⊕ y" := (x + y) (at level 50).',
    ],
)
def test_honest_matches_and_notations_stay_allowed(body: str) -> None:
    assert _problems(body) == []


@pytest.mark.parametrize("proof", ['Proof. Proof Mode "Classic". exact I. Qed.', 'Proof.\nProof   Mode "Ltac2".\nQed.'])
def test_proof_mode_is_refused(proof: str) -> None:
    assert any("`Proof Mode`" in problem for problem in _problems("", proof)), _problems("", proof)


def test_a_long_word_after_a_symbol_forms_only_the_tails_that_are_denied_words() -> None:
    word = "a" * 100_000 + "fix"
    assert list(_symbol_tails("= =" + word)) == [(word, "fix")]
    assert "fix" in DENIED_WORDS


def test_a_long_declared_symbol_is_judged_in_linear_time() -> None:
    """Run apart with a deadline: the quadratic scan it replaces took minutes on this input."""
    code = "from verifiers.proofs._policy import token_problem\nprint(token_problem('%' + 'a' * 400_000 + '%'))"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert ran.stdout.strip() == "None"


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_the_mutual_payload_proves_false_in_coq_and_is_rejected(coq_gate: CoqProver, tmp_path: Path) -> None:
    assert_coq_proves_it_and_the_gate_refuses(
        MUTUAL_AFTER_NOTATION_MATCH, "declares the keyword `match`", coq_gate, tmp_path
    )


def test_a_command_word_with_a_letter_beyond_ascii_after_it_is_one_name() -> None:
    """`Qedα` is a tactic to Coq (after `Ltac Qedα`); read as `Qed`, it closed the proof for the rules only."""
    assert read_command("Qedα.").keyword == "Qedα"
    assert read_command("Time Qedʹ.").keyword == "Qedʹ"
    assert _problems("Ltac Qedα := idtac.", "Proof. Qedα.\nexact I. Qed.") == []
