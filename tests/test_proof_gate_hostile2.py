"""The proof gate against cheats that go around Coq's checks through what runs beside coqc.

coqc reads the check file as it compiles it. Anything that could write into it while the proof runs
would replace the unread rest of that file, the gate's trailer included, with text of its own:
markers that print "Closed under the global context" and no theorem at all. The file is read-only
inside the sandbox, so such a write fails (see also `test_proof_gate_hostile_prover.py`).
CoqHammer pastes its `PredictPath` option into a shell command line, so a string there runs any
program inside coqc's sandbox; `Print Universes "file"` writes a file. Each attack below was
accepted, or wrote its file, before the rule its test names was added.
"""

from __future__ import annotations

import pytest

from tests.proof_gate_cases import FALSE_CLAIM, HAMMER_SHELL, TRUE_CLAIM
from tools.proofs import CoqProver, problem_from_text
from verifiers.proofs import (
    DEFAULT_ALLOWED_AXIOMS,
    ProofFileReport,
    build_check_file,
    check_proof,
    kernel_check,
    lint_proof_file,
)


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_hammer_option_that_runs_a_shell_is_refused(coq_gate: CoqProver) -> None:
    verdict = check_proof(FALSE_CLAIM, HAMMER_SHELL, coq_gate)
    assert verdict.decision == "reject", "a proof of 2 + 2 = 5 was accepted"
    assert any("`Set Hammer PredictPath` gives an option a string" in reason for reason in verdict.reasons)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_check_file_cannot_be_rewritten_while_coqc_reads_it(coq_gate: CoqProver) -> None:
    # Past the text rules, the shell Hammer starts tries to write a forged tail over the check file:
    # the write fails, and coqc compiles the gate's own tail, which refuses the false proof.
    layout = build_check_file(FALSE_CLAIM, ProofFileReport(body=HAMMER_SHELL))
    verdict = kernel_check(FALSE_CLAIM, layout, coq_gate, DEFAULT_ALLOWED_AXIOMS, 120.0)
    assert verdict.decision == "reject", "a proof of 2 + 2 = 5 was accepted"
    assert (coq_gate.workdir / "Check.v").read_text() == layout.source
    assert verdict.reasons[0].startswith("Coq rejects the proof"), verdict.reasons


@pytest.mark.parametrize(
    "query",
    [
        'Print Universes "u.dot".',
        'Print Sorted Universes "u.dot".',
        'Print Universes Subgraph (Set) "u.dot".',
        'Time Print Universes\n  "u.dot".',
    ],
)
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_query_that_writes_a_file_is_refused(coq_gate: CoqProver, query: str) -> None:
    for source in (
        f"Require Import Arith.\n{query}\nTheorem true_claim : 2 + 2 = 4.\nProof. reflexivity. Qed.\n",
        f"Require Import Arith.\nTheorem true_claim : 2 + 2 = 4.\nProof. {query} reflexivity. Qed.\n",
    ):
        verdict = check_proof(TRUE_CLAIM, source, coq_gate)
        assert verdict.decision == "reject"
        assert any("writes a file" in reason for reason in verdict.reasons), verdict.reasons
    assert not (coq_gate.workdir / "u.dot").exists()


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_files_written_during_the_check_are_seen_past_the_text_rules(coq_gate: CoqProver) -> None:
    body = 'Print Universes "u.dot".\nTheorem true_claim : 2 + 2 = 4.\nProof. reflexivity. Qed.\n'
    overwrite = body.replace("u.dot", "Check.v")
    layout = build_check_file(TRUE_CLAIM, ProofFileReport(body=overwrite))
    verdict = kernel_check(TRUE_CLAIM, layout, coq_gate, (), 60.0)
    assert verdict.decision == "reject"
    assert "Check.v: Read-only file system" in verdict.reasons[0], verdict.reasons


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_coqs_own_outputs_and_solver_caches_are_not_files_of_the_proof(coq_gate: CoqProver) -> None:
    source = (
        "Require Import Arith.\nRequire Import Lia.\nSet Lia Cache.\nSet Nia Cache.\n"
        "Lemma l (x y : nat) : x < y -> 2 * x + 1 < 2 * y + 5.\nProof. lia. Qed.\n"
        "Lemma n (x y : nat) : x * y >= 0.\nProof. nia. Qed.\n"
        "Theorem true_claim : 2 + 2 = 4.\nProof. reflexivity. Qed.\n"
    )
    verdict = check_proof(TRUE_CLAIM, source, coq_gate)
    assert verdict.decision == "accept", verdict.reasons
    assert (coq_gate.workdir / ".lia.cache").exists()


def _option_problems(line: str) -> list[str]:
    problem = problem_from_text("proofs/t", "Theorem t : True.\n")
    source = f"From Hammer Require Import Hammer.\n{line}\nTheorem t : True.\nProof. exact I. Qed.\n"
    return lint_proof_file(problem, source).problems


@pytest.mark.parametrize(
    "line",
    [
        'Set Hammer PredictPath "sh -c id #".',
        'Local Set Hammer PredictPath "/bin/sh".',
        'Export Set Hammer PredictPath "/bin/sh".',
        'Set Hammer PredictMethod "knn; id #".',
        'Set Hammer\tPredictPath (* c *) "/bin/sh".',
        'Set Printing Width "80".',
    ],
)
def test_an_option_given_a_string_is_refused(line: str) -> None:
    problems = _option_problems(line)
    assert any("gives an option a string" in problem for problem in problems), problems


@pytest.mark.parametrize(
    "line",
    [
        "Set Hammer ATPLimit 5.",
        "Unset Hammer Vampire.",
        "Set Hammer ReconstrLimit 10.",
        'Set Warnings "-deprecated".',
        'Set Default Goal Selector "!".',
        'Set Bullet Behavior "Strict Subproofs".',
    ],
)
def test_numeric_switches_and_string_options_that_name_no_file_stay_allowed(line: str) -> None:
    assert _option_problems(line) == []


def test_hammer_evaluation_hook_is_refused() -> None:
    problems = _option_problems('Lemma x : True.\nProof. hammer_hook "eprover" "x". exact I. Qed.')
    assert any("`hammer_hook`" in problem for problem in problems), problems
