"""The proof gate on real coqc: a genuine proof is accepted, every way of cheating is rejected, and
the verdict says why."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from runs import ExperimentSpec, TaskSpec
from sandboxes import LocalSandboxConfig, Sandbox, get_sandbox
from tools import ExperimentOutcome, OutputFile
from tools.proofs import CoqConfig, CoqProver, ProofProblem, problem_from_text
from verifiers import GateContext, get_gate
from verifiers.proofs import GATE_COQ_ARGS, ProofVerdict, check_proof, lint_proof_file, parse_assumptions

pytestmark = [pytest.mark.slow, pytest.mark.coq, pytest.mark.usefixtures("coq", "bubblewrap")]

HEADER = "Require Import Arith.\n"
STATEMENT = "Theorem demo (a b : nat) (h : a < b) : a + 1 <= b."
PROBLEM = problem_from_text("proofs/demo", HEADER + "\n" + STATEMENT + "\n")
GOOD = HEADER + "Require Import Lia.\n\n" + STATEMENT + "\nProof.\n  lia.\nQed.\n"


def sandbox_factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return get_sandbox(LocalSandboxConfig(), workdir, ro_paths=tuple(ro_paths))


@pytest.fixture
def prover(tmp_path: Path) -> Iterator[CoqProver]:
    backend = CoqProver(tmp_path / "gate", sandbox_factory, CoqConfig(args=GATE_COQ_ARGS), file_stem="Check")
    yield backend
    backend.close()


def judge(prover: CoqProver, source: str, problem: ProofProblem = PROBLEM, **options: object) -> ProofVerdict:
    return check_proof(problem, source, prover, **options)  # type: ignore[arg-type]


def test_genuine_proof_with_helper_lemma_is_accepted(prover: CoqProver) -> None:
    source = (
        HEADER
        + "Require Import Lia.\n\nLemma helper (x y : nat) : x < y -> S x <= y.\nProof. lia. Qed.\n\n"
        + STATEMENT
        + "\nProof.\n  rewrite Nat.add_1_r. apply helper. exact h.\nQed.\n"
    )
    verdict = judge(prover, source)
    assert verdict.decision == "accept", verdict.reasons
    assert verdict.assumptions == []


def test_file_without_header_is_checked_under_the_trusted_header(prover: CoqProver) -> None:
    verdict = judge(prover, STATEMENT + "\nProof.\n  rewrite Nat.add_1_r. exact h.\nQed.\n")
    assert verdict.decision == "accept", verdict.reasons


CHEATS = {
    "admitted": (GOOD.replace("Qed.", "Admitted."), "(`Admitted`)"),
    "admit": (GOOD.replace("lia.", "admit."), "(`admit`)"),
    "give_up": (GOOD.replace("lia.", "give_up."), "(`give_up`)"),
    "abort": (GOOD.replace("Qed.", "Abort."), "(`Abort`)"),
    "no proof at all": (HEADER + STATEMENT + "\n", "never closed"),
    "axiom": (
        HEADER + "Axiom anything : forall P : Prop, P.\n" + STATEMENT + "\nProof. apply anything. Qed.\n",
        "assumption the proof would rest on (`Axiom`)",
    ),
    "parameter": (
        HEADER + "Parameter p : forall P : Prop, P.\n" + STATEMENT + "\nProof. apply p. Qed.\n",
        "assumption the proof would rest on (`Parameter`)",
    ),
    "hypothesis": (
        HEADER + "Hypothesis hyp : 1 = 2.\n" + STATEMENT + "\nProof. exfalso. discriminate hyp. Qed.\n",
        "assumption the proof would rest on (`Hypothesis`)",
    ),
    "changed statement": (GOOD.replace("a + 1 <= b", "a <= b"), "differs from the task's"),
    "redefined name": (
        HEADER + "Definition nat := bool.\n" + STATEMENT + "\nProof. Admitted.\n",
        "redefines `nat`",
    ),
    "redefined notation": (
        HEADER + 'Local Notation "x <= y" := True (at level 70).\n' + STATEMENT + "\nProof. exact I. Qed.\n",
        "redefines `<=`",
    ),
    "guard checking off": (
        HEADER
        + "Unset Guard Checking.\nFixpoint loop (n : nat) : False := loop n.\nSet Guard Checking.\n"
        + STATEMENT
        + "\nProof. destruct (loop 0). Qed.\n",
        "Guard Checking",
    ),
    "universe checking off": (
        HEADER + "Unset Universe Checking.\n" + GOOD.removeprefix(HEADER),
        "Universe Checking",
    ),
    "bypass attribute": (
        HEADER
        + "#[bypass_check(guard)] Fixpoint loop (n : nat) : False := loop n.\n"
        + STATEMENT
        + "\nProof. destruct (loop 0). Qed.\n",
        "attribute #[bypass_check]",
    ),
    "escape the wrapper module": (
        HEADER + "End LabgateCandidate.\n" + GOOD.removeprefix(HEADER),
        "command `End LabgateCandidate` is not allowed",
    ),
    "reset the environment": (HEADER + "Reset Initial.\n" + GOOD.removeprefix(HEADER), "`Reset Initial`"),
    "load a plugin": (HEADER + 'Declare ML Module "ltac_plugin".\n' + GOOD.removeprefix(HEADER), "`Declare ML`"),
    "load a file": (HEADER + "Load Other.\n" + GOOD.removeprefix(HEADER), "`Load Other`"),
    "library axiom off the allow-list": (
        HEADER
        + "Require Import Coq.Logic.ClassicalEpsilon.\n"
        + STATEMENT
        + "\nProof.\n  destruct (constructive_indefinite_description (fun n => n = 0) (ex_intro _ 0 eq_refl)).\n"
        + "  rewrite Nat.add_1_r. exact h.\nQed.\n",
        "relies on axiom ClassicalEpsilon.constructive_indefinite_description",
    ),
}


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheat_is_rejected_with_its_reason(prover: CoqProver, name: str) -> None:
    source, reason = CHEATS[name]
    verdict = judge(prover, source)
    assert verdict.decision == "reject"
    assert any(reason in text for text in verdict.reasons), verdict.reasons


def test_wrong_proof_is_rejected_with_coqs_error_in_the_users_lines(prover: CoqProver) -> None:
    verdict = judge(prover, GOOD.replace("lia.", "reflexivity."))
    assert verdict.decision == "reject"
    assert verdict.diagnostics and verdict.diagnostics[0].line == 6
    assert "Coq rejects the proof at line 6" in verdict.reasons[0]


def test_header_assumptions_are_allowed_but_only_those(prover: CoqProver) -> None:
    problem = problem_from_text(
        "proofs/floor-demo",
        "Require Import Arith.\nParameter c : nat.\nAxiom c_pos : 0 < c.\n\nTheorem uses_c : 0 < c + 1.\n",
    )
    proof = "Require Import Lia.\nTheorem uses_c : 0 < c + 1.\nProof. pose proof c_pos. lia. Qed.\n"
    verdict = judge(prover, proof, problem)
    assert verdict.decision == "accept", verdict.reasons
    assert {entry.name for entry in verdict.assumptions} == {"c", "c_pos"}
    cheat = (
        "Require Import Classical.\nTheorem uses_c : 0 < c + 1.\n"
        "Proof. destruct (classic (0 < c + 1)) as [ok | no]; [exact ok | ].\n"
        "  pose proof c_pos. exfalso. apply no. auto with arith. Qed.\n"
    )
    verdict = judge(prover, cheat, problem, allowed_axioms=())
    assert verdict.decision == "reject"
    assert any("Classical_Prop.classic" in reason for reason in verdict.reasons)


def test_gate_reads_the_experiment_file_and_names_the_evidence(tmp_path: Path) -> None:
    task = TaskSpec(
        id="proofs/demo",
        workload="proofs",
        params={"statement": STATEMENT, "header": HEADER},
        gates=["proof-check"],
    )
    (tmp_path / "proof.v").write_text(GOOD)
    outcome = ExperimentOutcome(
        key="demo", status="completed", files=[OutputFile(path="proof.v", kind="proof", role="proof")]
    )
    context = GateContext(
        task=task,
        experiment=ExperimentSpec(key="demo", task_id=task.id, params=task.params),
        directory=tmp_path,
        outcome=outcome,
        evidence={"proof.v": "ab" * 32},
        sandbox_factory=sandbox_factory,
    )
    result = get_gate("proof-check").check(context)
    assert result.decision == "accept", result.reasons
    assert result.evidence == ["ab" * 32]
    (tmp_path / "proof.v").write_text(GOOD.replace("Qed.", "Admitted."))
    assert get_gate("proof-check").check(context).decision == "reject"
    (tmp_path / "proof.v").unlink()
    missing = get_gate("proof-check").check(context)
    assert missing.decision == "reject" and "no proof.v" in missing.reasons[0]


def test_assumption_printout_kinds() -> None:
    printed = "Axioms:\nfoo : False\nbar\n  : forall P : Prop,\n    P\nloop is assumed to be guarded.\n"
    entries = parse_assumptions(printed)
    assert entries is not None
    assert [(e.name, e.kind) for e in entries] == [("foo", "axiom"), ("bar", "axiom"), ("loop", "unguarded")]
    assert parse_assumptions("Closed under the global context") == []


def test_lint_alone_finds_the_main_theorem() -> None:
    report = lint_proof_file(PROBLEM, GOOD)
    assert report.ok and report.main_end == "Qed" and report.header_kept == 1
