"""The Lean 4 proof gate against a stand-in `lean` and `lean4checker` (tests/fixtures/provers).

The stand-ins do not check Lean: they answer in `lean`'s message format (`#print axioms` as an
info message, errors located at a line) and exit as lean4checker does. What is tested is the gate's
own logic: the tokenizer-based text rules (cheats in every disguise, and no false rejections for
words inside comments and strings), the file the gate writes (the statement elaborated before the
candidate, the candidate in its own namespace), the axiom allow-list and the replay's veto.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from sandboxes import LocalSandbox, Sandbox
from tests.proof_gate_cases import LEAN_CHEATS as CHEATS
from tests.proof_gate_cases import LEAN_GOOD as GOOD
from tests.proof_gate_cases import LEAN_HEADER as HEADER
from tests.proof_gate_cases import LEAN_PROBLEM as PROBLEM
from tests.proof_gate_cases import LEAN_STATEMENT as STATEMENT
from tools.proofs import LeanBatch, ProofProblem, lean_problem, lean_tokens, token_text
from verifiers.proofs import build_lean_check, check_lean_proof, lint_lean, parse_axioms

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "provers"


def plain_sandbox(workdir: Path, **_: object) -> Sandbox:
    return LocalSandbox(workdir=workdir, isolation=False)


def install(tmp_path: Path, name: str) -> Path:
    """A copy of a stand-in, run by this interpreter, in its own directory (its state files sit beside it)."""
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    target = tools / name
    target.write_text(f"#!{sys.executable}\n" + (FIXTURES / f"fake_{name}.py").read_text())
    target.chmod(0o755)
    return target


@pytest.fixture
def batch(tmp_path: Path) -> LeanBatch:
    lean = install(tmp_path, "lean")
    checker = install(tmp_path, "lean4checker")
    (lean.parent / "axioms.txt").write_text("propext, Quot.sound")
    return LeanBatch(tmp_path / "gate", plain_sandbox, lean=str(lean), checker=str(checker))


def test_problem_reads_header_statement_and_proposition() -> None:
    assert PROBLEM.prover == "lean4" and PROBLEM.name == "demo"
    assert PROBLEM.header == HEADER
    assert PROBLEM.statement == STATEMENT
    assert PROBLEM.proposition() == "(a b : ℕ) (h : a < b) : a + 1 ≤ b"


def test_tokenizer_keeps_comments_and_strings_apart() -> None:
    source = 'theorem x : True := by /- sorry /- nested -/ still -/ trivial -- sorry\n#eval "sorry"'
    tokens = lean_tokens(source)
    code = [token.text for token in tokens if token.kind == "ident"]
    assert "sorry" not in code and "trivial" in code
    assert [token.kind for token in tokens if "sorry" in token.text] == ["comment", "comment", "string"]
    assert token_text(lean_tokens("a  +\n b -- c")) == token_text(lean_tokens("a + b"))


def test_genuine_proof_is_accepted_with_the_standard_axioms(batch: LeanBatch) -> None:
    verdict = check_lean_proof(PROBLEM, GOOD, batch)
    assert verdict.decision == "accept", verdict.reasons
    assert verdict.assumptions == ["propext", "Quot.sound"]
    checked = verdict.check_source
    # The statement is elaborated before the candidate's text, which sits in its own namespace.
    assert checked.index("def labgate_goal_") < checked.index("namespace LabgateCandidate_") < checked.index("omega")
    assert "#print axioms labgate_check_" in checked


def test_words_in_comments_and_strings_are_not_rejected(batch: LeanBatch) -> None:
    source = (
        HEADER
        + "\n/- no `sorry`, no axiom, no #exit here -/\n"
        + STATEMENT
        + " := by\n  -- not native_decide\n  omega\n"
    )
    verdict = check_lean_proof(PROBLEM, source, batch)
    assert verdict.decision == "accept", verdict.reasons


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheat_is_rejected_before_any_check(name: str, tmp_path: Path) -> None:
    source, reason = CHEATS[name]
    reasons, body = lint_lean(PROBLEM, source)
    assert reasons and body == ""
    assert any(reason in item for item in reasons), reasons


def test_native_decide_passes_the_text_rules_when_allowed() -> None:
    reasons, _ = lint_lean(PROBLEM, GOOD.replace("omega", "native_decide"), allow_native=True)
    assert reasons == []


def test_maxheartbeats_is_allowed_and_other_options_are_not() -> None:
    assert lint_lean(PROBLEM, "set_option maxHeartbeats 0 in\n" + GOOD)[0] == []
    assert lint_lean(PROBLEM, "set_option maxHeartbeats 400000\n" + GOOD)[0] == []
    reasons, _ = lint_lean(PROBLEM, "set_option backward.isDefEq.lazyWhnfCore false\n" + GOOD)
    assert reasons and "backward.isDefEq.lazyWhnfCore" in reasons[0]


def test_axiom_beyond_the_allow_list_is_rejected(batch: LeanBatch, tmp_path: Path) -> None:
    (tmp_path / "tools" / "axioms.txt").write_text("propext, Classical.choice, Quot.sound, Lean.ofReduceBool")
    verdict = check_lean_proof(PROBLEM, GOOD, batch)
    assert verdict.decision == "reject"
    assert "Lean.ofReduceBool" in verdict.reasons[0]


def test_replay_refusal_rejects_what_print_axioms_accepted(batch: LeanBatch, tmp_path: Path) -> None:
    (tmp_path / "tools" / "replay_fails").write_text("")
    verdict = check_lean_proof(PROBLEM, GOOD, batch)
    assert verdict.decision == "reject"
    assert "independent replay" in verdict.reasons[0] and "declaration type mismatch" in verdict.reasons[0]


def test_a_failing_step_is_reported_in_the_candidates_lines(batch: LeanBatch) -> None:
    verdict = check_lean_proof(PROBLEM, GOOD.replace("omega", "bad_tactic"), batch)
    assert verdict.decision == "reject"
    assert verdict.reasons == ["Lean rejects the proof at line 5: unknown tactic"]


def test_missing_toolchain_is_a_clear_refusal(tmp_path: Path) -> None:
    batch = LeanBatch(tmp_path / "gate", plain_sandbox, lean=str(tmp_path / "no-lean"))
    from tools.proofs import ProverUnavailableError

    with pytest.raises(ProverUnavailableError, match="sandboxes/images/lean4"):
        check_lean_proof(PROBLEM, GOOD, batch)


def test_print_axioms_parsing_takes_the_named_theorem_only() -> None:
    output = (
        "Check.lean:3:0: info: 'other' depends on axioms: [sorryAx]\n"
        "Check.lean:9:0: info: 'labgate_check_ab' depends on axioms: [propext,\n Classical.choice, Quot.sound]\n"
    )
    assert parse_axioms(output, "labgate_check_ab") == ["propext", "Classical.choice", "Quot.sound"]
    assert parse_axioms("'labgate_check_ab' does not depend on any axioms", "labgate_check_ab") == []
    assert parse_axioms(output, "labgate_check_cd") is None


def test_check_file_restates_binders_as_a_proposition() -> None:
    source, suffix, _ = build_lean_check(PROBLEM, "theorem demo (a b : ℕ) (h : a < b) : a + 1 ≤ b := by omega", "ff")
    assert suffix == "ff"
    assert "def labgate_goal_ff : Prop :=\n  ∀ (a b : ℕ) (h : a < b), a + 1 ≤ b" in source
    assert "theorem labgate_check_ff : labgate_goal_ff := @LabgateCandidate_ff.demo" in source


def test_the_gate_runs_through_the_project_when_one_is_configured(tmp_path: Path) -> None:
    batch = LeanBatch(tmp_path, plain_sandbox, lean="lean", checker="lean4checker", project="/opt/lean-project")
    assert batch._through_project(["lean", "-o", "Check.olean", "Check.lean"])[:4] == [
        "lake",
        "-d",
        "/opt/lean-project",
        "env",
    ]
    assert shutil.which("lake") is None or True  # the command shape is what is tested here


def _problem_with_header(header: str) -> ProofProblem:
    return lean_problem("p", header + "theorem t : 1 + 1 = 2 := by\n  sorry\n")


def test_a_file_without_the_header_is_checked_under_the_trusted_one() -> None:
    problem = _problem_with_header("import Mathlib\n")
    reasons, body = lint_lean(problem, "theorem t : 1 + 1 = 2 := by\n  norm_num\n")
    assert reasons == [] and "norm_num" in body


def test_the_lean_image_provides_what_the_gate_and_the_search_invoke() -> None:
    """The image cannot be built here; what it must provide is checked against what labgate runs."""
    from tools.proofs import ProofsSettings

    dockerfile = (Path(__file__).resolve().parent.parent / "sandboxes/images/lean4/Dockerfile").read_text()
    defaults = ProofsSettings.model_fields
    for name in ("lean_repl", "lean", "lean_checker"):
        assert f"/usr/local/bin/{defaults[name].default}" in dockerfile or name == "lean", name
    assert (
        "lean -o Check.olean Check.lean" in dockerfile and "LEAN_PATH=/tmp/gate-check lean4checker Check" in dockerfile
    )
    assert "/opt/lean-project" in dockerfile and "LABGATE_LEAN_PROJECT" in dockerfile


@pytest.mark.image
def test_the_gate_on_a_real_lean_toolchain(tmp_path: Path) -> None:
    if shutil.which("lean") is None or shutil.which("lean4checker") is None:
        pytest.skip("lean and lean4checker are not installed (build sandboxes/images/lean4; it needs network)")
    problem = lean_problem("p", "theorem t (n : Nat) : n + 0 = n := by\n  sorry\n")
    batch = LeanBatch(tmp_path / "gate", plain_sandbox)
    accepted = check_lean_proof(problem, "theorem t (n : Nat) : n + 0 = n := by\n  simp\n", batch)
    assert accepted.decision == "accept", accepted.reasons
    proved_other = "theorem t (n : Nat) : n + 0 = n := by\n  simp\ntheorem u : True := trivial\n"
    assert check_lean_proof(problem, proved_other, batch).decision == "accept"
    wrong = check_lean_proof(problem, "theorem t (n : Nat) : n + 0 = n := by\n  rfl\n  rfl\n", batch)
    assert wrong.decision == "reject"


def test_lemma_and_theorem_are_the_same_declaration() -> None:
    assert lint_lean(PROBLEM, GOOD.replace("theorem demo", "lemma demo"))[0] == []
