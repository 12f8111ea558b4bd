"""The proof gate against an optimizer: every cheat of the shared battery is rejected, every honest
control accepted, and each layer (text rules, Print Assumptions, coqchk) is shown to hold on its own."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from runs import ExperimentSpec, TaskSpec
from sandboxes import LocalSandboxConfig, Sandbox, get_sandbox
from tests.proof_gate_cases import (
    CHEATS,
    FALSE_CLAIM,
    FUNCTOR_GUARD,
    FUNCTOR_UNIVERSES,
    GUARD_BUG,
    HONEST,
    ProofCase,
)
from tools import ExperimentOutcome, OutputFile
from tools.proofs import CoqConfig, CoqProver, ProverUnavailableError, problem_from_text
from verifiers import GateContext, get_gate
from verifiers.proofs import (
    DEFAULT_ALLOWED_AXIOMS,
    ProofFileReport,
    ProofGate,
    build_check_file,
    check_proof,
    judge_checker,
    kernel_check,
    lint_proof_file,
    parse_assumptions,
    parse_checker_summary,
    read_command,
)

coq_marks = [pytest.mark.coq, pytest.mark.usefixtures("coq", "bubblewrap")]


def sandbox_factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return get_sandbox(LocalSandboxConfig(), workdir, ro_paths=tuple(ro_paths))


@pytest.mark.parametrize("case", CHEATS, ids=[case.name for case in CHEATS])
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_cheat_is_rejected(coq_gate: CoqProver, case: ProofCase) -> None:
    verdict = check_proof(case.problem, case.source, coq_gate)
    assert verdict.decision == "reject", case.name
    assert verdict.reasons
    if case.reason:  # case-blind: Coq says "Stack overflow", a crash report "stack overflow or memory limit"
        assert any(case.reason.lower() in reason.lower() for reason in verdict.reasons), verdict.reasons


@pytest.mark.parametrize("case", HONEST, ids=[case.name for case in HONEST])
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_honest_control_is_accepted_by_all_three_judges(coq_gate: CoqProver, case: ProofCase) -> None:
    verdict = check_proof(case.problem, case.source, coq_gate)
    assert verdict.decision == "accept", verdict.reasons
    assert verdict.checker_seconds > 0, "coqchk did not run"
    allowed = set(DEFAULT_ALLOWED_AXIOMS)
    assert all(any(name.endswith(entry.name) for name in allowed) for entry in verdict.assumptions)


def _unlinted(body: str) -> ProofFileReport:
    """A report whose body skips the text rules, to test the kernel-side judges on their own."""
    return ProofFileReport(body=f"{body}\nTheorem false_claim : 2 + 2 = 5.\nProof. exact boom. Qed.\n")


@pytest.mark.parametrize("body", [FUNCTOR_GUARD, FUNCTOR_UNIVERSES], ids=["guard", "universes"])
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_coqchk_alone_refuses_what_print_assumptions_calls_closed(coq_gate: CoqProver, body: str) -> None:
    layout = build_check_file(FALSE_CLAIM, _unlinted(body))
    verdict = kernel_check(FALSE_CLAIM, layout, coq_gate, DEFAULT_ALLOWED_AXIOMS, 60.0)
    # coqc compiled a proof of 2 + 2 = 5 and Print Assumptions saw nothing wrong with it ...
    assert verdict.assumptions == [], verdict.reasons
    assert verdict.decision == "reject"
    assert len(verdict.reasons) == 1, verdict.reasons
    if body == FUNCTOR_GUARD:
        # ... the fixpoint audit reads the loop in the applied functor's term (and stops the check there) ...
        assert "fixpoint audit refuses" in verdict.reasons[0] and "Applied.loop: fixpoint T" in verdict.reasons[0]
    else:
        # ... and for the universes, only the independent checker stands between it and acceptance.
        assert verdict.reasons[0].startswith("coqchk refused") and "Type error" in verdict.reasons[0]


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_guard_bug_passes_all_of_coq_so_the_audit_and_the_text_rules_refuse_it(coq_gate: CoqProver) -> None:
    verdict = kernel_check(FALSE_CLAIM, build_check_file(FALSE_CLAIM, _unlinted(GUARD_BUG)), coq_gate, (), 60.0)
    assert verdict.decision == "reject"
    if coq_gate.version().startswith("8.16"):
        # coqc, Print Assumptions and coqchk all accept a proof of 2 + 2 = 5 (rocq issue #20455): only the
        # gate's fixpoint audit, reading the compiled term, refuses it ...
        assert verdict.assumptions == [], verdict.reasons
        assert len(verdict.reasons) == 1 and "fixpoint audit refuses" in verdict.reasons[0], verdict.reasons
    # ... and a file with recursion of its own does not reach the kernel at all.
    source = f"Require Import Arith.\n{GUARD_BUG}\nTheorem false_claim : 2 + 2 = 5.\nProof. exact boom. Qed.\n"
    problems = lint_proof_file(FALSE_CLAIM, source).problems
    assert any("writes its own recursion (`Fixpoint`)" in problem for problem in problems), problems


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_print_assumptions_alone_names_the_switched_off_checks(coq_gate: CoqProver) -> None:
    body = (
        "Unset Guard Checking.\nFixpoint loop (n : nat) : 2 + 2 = 5 := loop n.\nSet Guard Checking.\n"
        "Unset Universe Checking.\nDefinition big : Set := Set.\nSet Universe Checking.\n"
        "Definition boom : 2 + 2 = 5 := (fun _ : Type => loop 0) big."
    )
    verdict = kernel_check(FALSE_CLAIM, build_check_file(FALSE_CLAIM, _unlinted(body)), coq_gate, (), 60.0)
    assert verdict.decision == "reject"
    kinds = {entry.name.rsplit(".", 1)[-1]: entry.kind for entry in verdict.assumptions}
    assert kinds == {"loop": "unguarded", "big": "type-in-type"}
    assert any("unsafe universe hierarchy" in reason for reason in verdict.reasons)
    assert not any("axiom" in reason for reason in verdict.reasons), verdict.reasons


def test_unsafe_hierarchy_is_a_switched_off_check_not_an_axiom() -> None:
    printed = (
        "Axioms:\nfoo relies on an unsafe hierarchy.\nbad is assumed to be positive.\n"
        "loop is assumed to be guarded.\nclassic : forall P : Prop, P \\/ ~ P\n"
    )
    entries = parse_assumptions(printed)
    assert entries is not None
    assert [(e.name, e.kind) for e in entries] == [
        ("foo", "type-in-type"),
        ("bad", "unchecked-positivity"),
        ("loop", "unguarded"),
        ("classic", "axiom"),
    ]
    # "Closed" counts only as the whole printout, never as a line an axiom's type could print.
    assert parse_assumptions("Closed under the global context\n") == []
    forged = parse_assumptions('Axioms:\nx : "\nClosed under the global context" = ""\n')
    assert forged is None or forged != []


# Captured from coqchk 8.16.1 (`-silent -o -norec`), trimmed.
CHECKER_OK = """
CONTEXT SUMMARY
===============

* Theory: Set is predicative

* Axioms:
    Coq.Reals.ClassicalDedekindReals.sig_forall_dec
    Labgate.Check.c

* Constants/Inductives relying on type-in-type: <none>

* Constants/Inductives relying on unsafe (co)fixpoints: <none>

* Inductives whose positivity is assumed: <none>

"""


def test_checker_summary_judges_the_checked_library_only() -> None:
    summary = parse_checker_summary(CHECKER_OK)
    assert summary is not None
    assert summary.axioms == ["Coq.Reals.ClassicalDedekindReals.sig_forall_dec", "Labgate.Check.c"]
    assert judge_checker(summary, "Labgate.Check", ("c",)) == []
    assert judge_checker(summary, "Labgate.Check", ()) == ["coqchk finds axiom c declared in the checked file"]
    flagged = CHECKER_OK.replace("type-in-type: <none>", "type-in-type:\n    Labgate.Check.M.big").replace(
        "(co)fixpoints: <none>", "(co)fixpoints:\n    Labgate.Check.N.loop"
    )
    reasons = judge_checker(parse_checker_summary(flagged) or summary, "Labgate.Check", ("c",))
    assert any("M.big relies on an unsafe universe hierarchy" in reason for reason in reasons)
    assert any("N.loop relies on a (co)fixpoint" in reason for reason in reasons)
    impredicative = CHECKER_OK.replace("Set is predicative", "Set is impredicative")
    assert judge_checker(parse_checker_summary(impredicative) or summary, "Labgate.Check", ("c",))
    assert parse_checker_summary("Fatal Error: Type error: IllFormedRecBody") is None
    assert parse_checker_summary(CHECKER_OK.replace("* Axioms:", "* Secret axioms:")) is None


def test_gate_runs_the_configured_coqc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LABGATE_COQC", str(tmp_path / "elsewhere" / "coqc"))
    assert ProofGate().coq.coqc == str(tmp_path / "elsewhere" / "coqc")
    task = TaskSpec(id="proofs/false-claim", workload="proofs", params={"statement": "Theorem t : True."})
    (tmp_path / "proof.v").write_text("Theorem t : True.\nProof. exact I. Qed.\n")
    context = GateContext(
        task=task,
        experiment=ExperimentSpec(key="t", task_id=task.id, params=task.params),
        directory=tmp_path,
        outcome=ExperimentOutcome(
            key="t", status="completed", files=[OutputFile(path="proof.v", kind="proof", role="proof")]
        ),
        sandbox_factory=sandbox_factory,
    )
    result = get_gate("proof-check").check(context)
    assert result.decision == "reject"
    assert "elsewhere/coqc" in result.reasons[0] and "not found" in result.reasons[0]


def test_coqchk_is_the_one_beside_coqc(tmp_path: Path) -> None:
    lonely = tmp_path / "coqc"
    lonely.write_text("#!/bin/sh\nexit 0\n")
    lonely.chmod(0o755)
    with pytest.raises(ProverUnavailableError, match="coqchk not found next to"):
        CoqConfig(coqc=str(lonely)).checker()
    companion = tmp_path / "coqchk"
    companion.write_text("#!/bin/sh\nexit 0\n")
    companion.chmod(0o755)
    assert CoqConfig(coqc=str(lonely)).checker() == str(companion)


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_gate_follows_no_link_to_a_proof(tmp_path: Path) -> None:
    honest = tmp_path / "elsewhere.v"
    honest.write_text(HONEST[0].source)
    experiment = tmp_path / "experiment"
    experiment.mkdir()
    os.symlink(honest, experiment / "proof.v")
    task = TaskSpec(
        id="proofs/minif2f-valid/amc12_2001_p2",
        workload="proofs",
        params={"set": "minif2f-valid", "problem": "amc12_2001_p2"},
    )
    context = GateContext(
        task=task,
        experiment=ExperimentSpec(key="amc12_2001_p2", task_id=task.id, params=task.params),
        directory=experiment,
        outcome=ExperimentOutcome(key="amc12_2001_p2", status="completed"),
        sandbox_factory=sandbox_factory,
    )
    result = get_gate("proof-check").check(context)
    assert result.decision == "reject" and "no proof.v" in result.reasons[0]
    (experiment / "proof.v").unlink()
    (experiment / "proof.v").write_text(HONEST[0].source)
    accepted = get_gate("proof-check").check(context)
    assert accepted.decision == "accept", accepted.reasons
    assert accepted.metrics["coqchk_seconds"] > 0


RICH_HONEST = """Require Import Arith.
From Coq Require Import Lia.
Require Import Coq.micromega.Lia ZArith.
From Hammer Require Import Tactics.
Local Open Scope nat_scope.
#[local] Hint Resolve Nat.add_comm : core.
Definition f (n : nat) : nat := n + 1.
Example e : f 1 = 2. Proof. reflexivity. Defined.
Lemma l1 : True /\\ True. Proof. split. all: exact I. Qed.
Lemma l2 : True /\\ True. Proof with auto. split... Qed.
Lemma l3 : True /\\ True. Proof. split; [> exact I | exact I]. Qed.
Lemma l4 : True /\\ True. Proof. split. 2: { exact I. } exact I. Qed.
Lemma l5 : True. Proof I.
Check f. Compute f 1. Opaque f. Set Printing All. Unset Printing All.
Theorem t (a b : nat) : a + b = b + a.
Proof using.
  - Time now lia.
Qed.
"""


def test_text_rules_keep_honest_syntax() -> None:
    problem = problem_from_text("proofs/comm", "Require Import Arith.\n\nTheorem t (a b : nat) : a + b = b + a.\n")
    report = lint_proof_file(problem, RICH_HONEST)
    assert report.problems == [] and report.main_end == "Qed" and report.header_kept == 1


@pytest.mark.parametrize(
    ("code", "prefixes", "keyword"),
    [
        ("Time Admitted.", ("Time",), "Admitted"),
        ('Redirect "f" Timeout 3 Local Unset Guard Checking.', ("Redirect", "Timeout", "Local"), "Unset"),
        ("Fail Succeed #[program] Instructions Definition x := 1.", ("Fail", "Succeed", "Instructions"), "Definition"),
        ('#[deprecated(note="] Admitted.")] Axiom a : False.', (), "Axiom"),
    ],
)
def test_prefixes_are_peeled_to_the_command(code: str, prefixes: tuple[str, ...], keyword: str) -> None:
    command = read_command(code)
    assert command.prefixes == prefixes and command.keyword == keyword


def test_denied_words_are_found_where_coq_reads_them() -> None:
    problem = FALSE_CLAIM
    hidden = 'Require Import Arith.\n(* "*)" *) Theorem false_claim : 2 + 2 = 5.\nProof. idtac "(*". Admitted.\n'
    assert any("`Admitted`" in reason for reason in lint_proof_file(problem, hidden).problems)
    quoted = 'Require Import Arith.\nTheorem false_claim : 2 + 2 = 5.\nProof. idtac "Admitted. Axiom". Abort.\n'
    reasons = lint_proof_file(problem, quoted).problems
    assert any("`Abort`" in reason for reason in reasons)
    assert not any("`Admitted`" in reason or "`Axiom`" in reason for reason in reasons)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Export Set Nested Proofs Allowed.", "not on the allow-list"),
        ("Export Unset Elimination Schemes.", "not on the allow-list"),
        ("Global Set Default Timeout 1.", "reach past"),
        ("#[global] Set Printing Width 1.", "reach past"),
    ],
)
def test_option_rules_see_every_locality(line: str, reason: str) -> None:
    source = f"Require Import Arith.\n{line}\nTheorem t : True.\nProof. exact I. Qed.\n"
    problems = lint_proof_file(problem_from_text("proofs/t", "Theorem t : True.\n"), source).problems
    assert any(reason in problem for problem in problems), problems


def test_option_rules_keep_module_local_settings() -> None:
    source = (
        "Set Printing Width 100.\nLocal Set Printing All.\n#[export] Set Printing Depth 60.\n"
        "Export Set Printing Width 90.\nTheorem t : True.\nProof. Set Printing Width 80. exact I. Qed.\n"
    )
    assert lint_proof_file(problem_from_text("proofs/t", "Theorem t : True.\n"), source).problems == []


def test_text_rules_take_linear_time() -> None:
    # Half a million one-character sentences (bullets) and a sentence of a hundred thousand prefixes:
    # numbering lines or peeling prefixes by rescanning the text took minutes here, outside any timeout.
    problem = problem_from_text("proofs/t", "Theorem t : True.\n")
    source = "Theorem t : True.\nProof.\n" + "- " * 500_000 + "exact I. Qed.\n"
    started = time.monotonic()
    report = lint_proof_file(problem, source)
    assert report.main_end == "Qed" and report.problems == []
    command = read_command("Time " * 100_000 + "#[local] " * 50_000 + "idtac.")
    assert command.keyword == "idtac" and len(command.prefixes) == 100_000
    assert time.monotonic() - started < 20, "the text rules are not linear in the file's size"
