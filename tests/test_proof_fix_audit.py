"""The proof gate's fixpoint audit: a Coq plugin that reads compiled terms, not spelling.

Coq 8.16.1's guard checker accepts some non-terminating fixpoints (`GUARD_BUG`, rocq #20455) and the
text rules keep files from writing recursion; the audit is the judge that does not depend on how a
recursion was spelled. Its own tests compile files with `Unset Guard Checking` (so Coq accepts any
recursion at all) and check what the audit says of each term; the gate's tests check that its verdict
decides, on files that reach the kernel past the text rules.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.proof_gate_cases import FALSE_CLAIM, GUARD_BUG
from tools.proofs import CheckResult, CoqConfig, CoqProver, Diagnostic, problem_from_text
from verifiers.proofs import DEFAULT_ALLOWED_AXIOMS, ProofFileReport, build_check_file, check_proof, kernel_check
from verifiers.proofs._check import AUDIT_VERSION, _audit_reasons, build_recheck_file

AUDITED = "Audited"


def _coqc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["coqc", "-q", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def audit(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """Compile `body` (guard checking off) as library `Audited`, then audit its theorem `checked`."""
    (tmp_path / f"{AUDITED}.v").write_text(f"Require Coq.Lists.List.\nUnset Guard Checking.\n{body}\n")
    compiled = _coqc(tmp_path, "-Q", ".", "", f"{AUDITED}.v")
    assert compiled.returncode == 0, compiled.stderr
    (tmp_path / "Audit.v").write_text(
        f'Require {AUDITED}.\nDeclare ML Module "coq-labgate-audit.plugin".\n'
        f"Labgate Audit Fixpoints {AUDITED}.checked.\n"
    )
    return _coqc(tmp_path, "-I", str(CoqConfig().audit_dir()), "-Q", ".", "", "Audit.v")


def _uses(name: str) -> str:
    return f"Definition checked := {name}."


# Recursion the audit accepts: calls on variables bound by patterns of the decreasing argument, at any
# depth of matching, mutual or nested, and library fixpoints inlined by reduction (`cbv`).
ACCEPTED = {
    "structural": "Fixpoint dbl (n : nat) : nat := match n with 0 => 0 | S p => S (S (dbl p)) end.\n" + _uses("dbl"),
    "two levels down": "Fixpoint half (n : nat) : nat := match n with 0 => 0 | S p => match p with 0 => 0 "
    "| S q => S (half q) end end.\n" + _uses("half"),
    "mutual": "Fixpoint ev (n : nat) : bool := match n with 0 => true | S p => od p end\n"
    "with od (n : nat) : bool := match n with 0 => false | S p => ev p end.\n" + _uses("ev"),
    "on a list": "Fixpoint len {A} (l : list A) : nat := match l with nil => 0 | cons _ t => S (len t) end.\n"
    + _uses("@len"),
    "second argument": "Fixpoint pw (b e : nat) {struct e} : nat := match e with 0 => 1 | S k => b * pw b k end.\n"
    + _uses("pw"),
    "inlined by cbv": "Definition checked := ltac:(let t := eval cbv in "
    "(fun n m : nat => n * m + List.length (List.map S (List.seq n m))) in exact t).",
}

# Recursion Coq's real guard checker accepts or not (it is off here); the audit refuses all of it, and the
# other constructs 8.16.1's kernel bugs go through: universe polymorphism, cumulativity, SProp.
REFUSED = {
    "no decrease": ("Fixpoint loop (n : nat) : False := loop n.\n" + _uses("loop"), "not a variable bound"),
    "a larger argument": ("Fixpoint up (n : nat) : False := up (S n).\n" + _uses("up"), "not a variable bound"),
    "through a match expression": (
        "Fixpoint f (n : nat) : nat := match n with 0 => 0 | S m => f (match m with 0 => m | S k => m end) end.\n"
        + _uses("f"),
        "not a variable bound",
    ),
    "through a let": (
        "Fixpoint g (n : nat) : nat := match n with 0 => 0 | S m => let k := m in g k end.\n" + _uses("g"),
        "not a variable bound",
    ),
    "a pattern of another argument": (
        "Fixpoint h (n m : nat) {struct n} : nat := match m with 0 => 0 | S k => h k m end.\n" + _uses("h"),
        "not a variable bound",
    ),
    "unapplied": (
        "Fixpoint u (n : nat) : nat := match n with 0 => 0 "
        "| S p => List.fold_left (fun a f => f a) (cons u nil) p end.\n" + _uses("u"),
        "without its decreasing argument",
    ),
    "cofixpoint": (
        "CoInductive s := c : nat -> s -> s.\nCoFixpoint z : s := z.\n" + _uses("z"),
        "a cofixpoint",
    ),
    "a polymorphic constant": (
        "Polymorphic Definition pid {A : Type} (a : A) := a.\n" + _uses("pid 0"),
        "universe-polymorphic constant",
    ),
    "a cumulative inductive": (
        "Polymorphic Cumulative Inductive box (A : Type) := B : A -> box A.\n" + _uses("box nat"),
        "cumulative inductive",
    ),
    "SProp": ("Definition sp : SProp -> True := fun _ => I.\n" + _uses("sp"), "SProp"),
    "behind a definition": (
        "Fixpoint loop (n : nat) : False := loop n.\nDefinition wrapped := loop 0.\n"
        "Lemma also : 2 + 2 = 5. Proof. destruct wrapped. Qed.\n" + _uses("also"),
        "loop",
    ),
    "in a type": (
        "Fixpoint loop (n : nat) : nat := loop n.\nDefinition ty : Type := loop 0 = loop 0.\n"
        "Definition checked : ty := eq_refl.",
        "loop",
    ),
}


@pytest.mark.coq
@pytest.mark.usefixtures("coq")
@pytest.mark.parametrize("body", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_the_audit_accepts_recursion_on_pattern_variables(tmp_path: Path, body: str) -> None:
    result = audit(tmp_path, body)
    assert result.returncode == 0, result.stderr
    assert f"{AUDIT_VERSION}: ok:" in result.stdout


@pytest.mark.coq
@pytest.mark.usefixtures("coq")
@pytest.mark.parametrize(("body", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_the_audit_refuses_any_other_recursion(tmp_path: Path, body: str, reason: str) -> None:
    result = audit(tmp_path, body)
    assert result.returncode != 0, result.stdout
    assert f"{AUDIT_VERSION}: refused: " in result.stderr and reason in result.stderr, result.stderr


@pytest.mark.coq
@pytest.mark.usefixtures("coq")
def test_library_constants_are_trusted_and_every_one_of_the_file_is_reached(tmp_path: Path) -> None:
    # Nat.add's fixpoint is the library's (not audited); the file's own reached through two definitions is.
    result = audit(
        tmp_path,
        "Definition plus := Nat.add.\nFixpoint bad (n : nat) : nat := bad n.\nDefinition mid := bad.\n"
        "Definition top := (plus, mid).\n" + _uses("top"),
    )
    assert "Audited.bad: fixpoint bad" in result.stderr, result.stderr
    library_only = audit(tmp_path, "Definition checked := (Nat.add, List.map, Nat.div).")
    assert library_only.returncode == 0 and "0 fixpoints" in library_only.stdout, library_only.stdout


PLUS_ZERO = problem_from_text("proofs/plus-zero", "Theorem plus_zero : forall n : nat, n + 0 = n.\n")


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_the_gate_accepts_honest_proofs_whose_terms_hold_library_fixpoints(coq_gate: CoqProver) -> None:
    # `cbv` puts Nat.add's fixpoint itself into the proof term (Print shows `fix add`): that is no recursion
    # of the file's own, and the audit reads it as what it is, structural.
    source = (
        "Theorem plus_zero : forall n : nat, n + 0 = n.\n"
        "Proof. intros n. cbv. induction n as [|k IH]. reflexivity. cbv. rewrite IH. reflexivity. Qed.\n"
    )
    verdict = check_proof(PLUS_ZERO, source, coq_gate)
    assert verdict.decision == "accept", verdict.reasons


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_the_gate_refuses_a_structural_recursion_coq_accepts_only_by_its_text_rules_and_audit(
    coq_gate: CoqProver,
) -> None:
    # Past the text rules, a file's own structural recursion passes the kernel, coqchk and the audit ...
    honest = (
        "Fixpoint z (n : nat) : n + 0 = n := match n as m return m + 0 = m with 0 => eq_refl "
        "| S p => f_equal S (z p) end.\nTheorem plus_zero : forall n : nat, n + 0 = n.\nProof. exact z. Qed.\n"
    )
    verdict = kernel_check(
        PLUS_ZERO, build_check_file(PLUS_ZERO, ProofFileReport(body=honest)), coq_gate, DEFAULT_ALLOWED_AXIOMS, 60.0
    )
    assert verdict.decision == "accept", verdict.reasons
    # ... and the guard bug that all of Coq accepts does not pass the audit (see test_proof_gate_hostile).
    body = f"{GUARD_BUG}\nTheorem false_claim : 2 + 2 = 5.\nProof. exact boom. Qed.\n"
    verdict = kernel_check(FALSE_CLAIM, build_check_file(FALSE_CLAIM, ProofFileReport(body=body)), coq_gate, (), 60.0)
    assert verdict.decision == "reject" and verdict.assumptions == []
    assert verdict.reasons == [
        "the gate's fixpoint audit refuses a term of the compiled proof (Coq 8.16's kernel wrongly accepts some "
        "such terms): issue: fixpoint issue: call of issue on an argument that is not a variable bound by a pattern "
        "of the decreasing argument"
    ]


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_without_the_audit_plugin_the_gate_accepts_nothing(
    coq_gate: CoqProver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABGATE_COQ_AUDIT", str(tmp_path))  # an empty directory: no plugin there
    source = "Theorem plus_zero : forall n : nat, n + 0 = n.\nProof. intros n. induction n; simpl; auto. Qed.\n"
    verdict = check_proof(PLUS_ZERO, source, coq_gate)
    assert verdict.decision == "reject"
    assert any("fixpoint audit could not be loaded" in reason for reason in verdict.reasons), verdict.reasons


def test_an_audit_that_gives_no_verdict_of_its_version_is_no_acceptance() -> None:
    layout = build_check_file(PLUS_ZERO, ProofFileReport(body="Theorem plus_zero : True.\n"), suffix="abcd")
    recheck = build_recheck_file(PLUS_ZERO, layout, "Labgate.Check", suffix="ef01")
    last = recheck.markers[3]

    def reasons(printed: str) -> list[str]:
        return _audit_reasons(CheckResult(ok=True, stdout=printed), recheck, "abcd", "Labgate.Check")

    assert reasons(f"{last}{AUDIT_VERSION}: ok: 3 constants, 0 inductives, 1 fixpoints\n") == []
    # An `ok` printed before the last marker is no verdict of the audit's (the library could print it).
    for printed in ("", f"{AUDIT_VERSION}: ok: 1 constants\n{last}", f"{last}labgate-audit 0: ok: 3 constants"):
        found = reasons(printed)
        assert len(found) == 1 and "did not accept" in found[0], printed
    stopped = Diagnostic(recheck.audit_line, 0, recheck.audit_line, 10, "error", "Anomaly: out of memory")
    found = _audit_reasons(CheckResult(ok=False, diagnostics=(stopped,), stdout=last), recheck, "abcd", "Labgate.Check")
    assert found == ["the gate's fixpoint audit failed: Anomaly: out of memory"]


def test_the_recheck_file_audits_the_checked_theorem_after_everything_else() -> None:
    layout = build_check_file(PLUS_ZERO, ProofFileReport(body="Theorem plus_zero : True.\n"), suffix="abcd")
    recheck = build_recheck_file(PLUS_ZERO, layout, "Labgate.Check", suffix="ef01")
    lines = recheck.source.splitlines()
    assert lines[recheck.plugin_line - 1] == 'Declare ML Module "coq-labgate-audit.plugin".'
    assert lines[recheck.audit_line - 1] == "Labgate Audit Fixpoints Labgate.Check.labgate_check_abcd."
    assert recheck.audit_line == len(lines)
