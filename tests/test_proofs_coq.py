"""The Coq backend on real coqc in the sandbox: diagnostics, goals, time limits and crashes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sandboxes import LocalSandboxConfig, Sandbox, get_sandbox
from tools.proofs import CoqConfig, CoqProver, CoqSession, Prover, coq_version

pytestmark = [pytest.mark.coq, pytest.mark.usefixtures("coq", "bubblewrap")]


def sandbox_factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return get_sandbox(LocalSandboxConfig(), workdir, ro_paths=tuple(ro_paths))


@pytest.fixture(params=["coqc", "session"])
def prover(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Prover]:
    """Both backends must give the same answers: one coqc per check, and a persistent coqidetop."""
    backend: CoqProver | CoqSession = (CoqProver if request.param == "coqc" else CoqSession)(
        tmp_path / "coq", sandbox_factory
    )
    yield backend
    backend.close()


def test_version_is_the_debian_coq() -> None:
    assert coq_version().startswith("8.16")


def test_a_good_file_checks(prover: Prover) -> None:
    result = prover.check("Require Import Arith.\nLemma l : 2 + 2 = 4.\nProof. reflexivity. Qed.\n")
    assert result.ok and result.errors == [] and result.summary() == "ok"


def test_diagnostics_on_live_output_point_at_the_culprit(prover: Prover) -> None:
    source = (
        "Require Import Arith.\n"
        "Lemma uses_unicode : forall n : nat, n + 0 = n.\n"
        "Proof.\n"
        "  intros n. (* ∑∑ *) rewrite Nat.add_0_r; undefined_tactic.\n"
        "Qed.\n"
    )
    result = prover.check(source)
    assert not result.ok
    error = result.first_error
    assert error is not None and error.severity == "error"
    assert error.line == 4
    assert source.splitlines()[3][error.column : error.end_column] == "undefined_tactic"
    assert "undefined_tactic was not found" in error.message


def test_warnings_and_unlocated_errors(prover: Prover) -> None:
    result = prover.check("Require Import ZArith.\nDefinition big := (2 ^ 100000 = 3)%nat.\nLemma m : 1 = 2.\nProof.\n")
    kinds = [(item.severity, item.line) for item in result.diagnostics]
    assert ("warning", 2) in kinds
    assert ("error", 0) in kinds
    assert "pending proofs" in result.errors[-1].message


def test_goal_at_a_failing_step(prover: Prover) -> None:
    source = (
        "Require Import Arith.\n"
        "Lemma l : forall (a b : nat), a = b -> a + b = 2 * b /\\ True.\n"
        "Proof.\n"
        "  intros a b H. split.\n"
        "  wrong_tactic.\n"
        "Qed.\n"
    )
    result = prover.check(source)
    error = result.first_error
    assert error is not None and error.line == 5
    state = prover.goal_at(source, source.index("wrong_tactic"))
    assert state is not None and len(state.goals) == 2
    assert state.goals[0].hypotheses == ("a, b : nat", "H : a = b")
    assert state.goals[0].conclusion == "a + b = 2 * b"
    assert state.goals[1].conclusion == "True"
    assert prover.goal_at("Lemma l : True.\nProof.\n  nonsense.\n  exact I.\nQed.\n", 50) is None


@pytest.mark.parametrize("kind", [CoqProver, CoqSession])
def test_time_limit_kills_a_looping_proof(tmp_path: Path, kind: type[CoqProver] | type[CoqSession]) -> None:
    prover = kind(tmp_path / "slow", sandbox_factory, CoqConfig(timeout=3))
    result = prover.check("Require Import Arith.\nGoal Nat.pow 2 30 = 1073741824.\nProof. reflexivity. Qed.\n")
    assert not result.ok
    assert result.timed_out
    assert "did not finish within 3 s" in result.summary()
    assert prover.check("Lemma l : True.\nProof. exact I. Qed.\n").ok
    prover.close()


def test_session_reuses_what_it_loaded_and_replays_its_output(tmp_path: Path) -> None:
    session = CoqSession(tmp_path / "session", sandbox_factory)
    source = "Require Import Arith.\nLemma l : 2 + 2 = 4.\nProof. reflexivity. Qed.\nPrint Assumptions l.\n"
    first = session.check(source)
    again = session.check(source)
    assert first.ok and again.ok
    assert "Closed under the global context" in first.stdout and first.stdout == again.stdout
    changed = session.check(source.replace("reflexivity", "simpl; reflexivity"))
    assert changed.ok and session.restarts == 0
    session.close()


def test_stack_overflows_are_failed_checks_not_exceptions(prover: Prover) -> None:
    caught = prover.check(
        "Fixpoint deep (n : nat) : nat := match n with 0 => 0 | S m => S (deep m) end.\n"
        "Eval vm_compute in deep (Nat.pow 10 6).\n"
    )
    assert not caught.ok and "Stack overflow" in caught.summary()
    nested = "Definition x := " + "(" * 200_000 + "0" + ")" * 200_000 + ".\n"
    crashed = prover.check(nested)
    assert not crashed.ok
    assert crashed.failure or crashed.errors
    assert prover.check("Lemma l : True.\nProof. exact I. Qed.\n").ok
