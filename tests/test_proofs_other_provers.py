"""Lean 4 and Isabelle adapters.

Here they are exercised against protocol fixtures (tests/fixtures/*_stub.py) that speak the Lean
REPL's and the Isabelle server's documented wire formats: framing, parsing, positions, goals,
timeouts and restarts. They do not run Lean or Isabelle. The tests marked `image` run the adapters
against the real provers built from sandboxes/images/{lean4,isabelle}; those images need network to
build, so these tests skip where `repl` / `isabelle` are not installed (including this project's CI).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from sandboxes import LocalSandbox, Sandbox
from tools.proofs import IsabelleServer, LeanRepl, parse_isabelle_state, parse_lean_goals

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def plain_sandbox(workdir: Path) -> Sandbox:
    """No namespaces: the fixtures are Python scripts run by this interpreter."""
    return LocalSandbox(workdir=workdir, isolation=False)


class _StubLean(LeanRepl):
    def _start(self) -> None:
        from tools.proofs._pipes import StreamReader

        self._process = self._sandbox_().spawn([sys.executable, str(FIXTURES / "lean_repl_stub.py")])
        self._reader = StreamReader(self._process)


class _StubIsabelle(IsabelleServer):
    def _start(self) -> None:
        import time

        from tools.proofs._pipes import StreamReader

        self._process = self._sandbox_().spawn([sys.executable, str(FIXTURES / "isabelle_server_stub.py")])
        self._reader = StreamReader(self._process)
        finished = self.task("session_start", {"session": self.session}, time.monotonic() + 30)
        self._session_id = str(finished["session_id"])


LEAN_OK = "theorem t (n : Nat) : n + 0 = n := by\n  simp\n"
LEAN_BAD = "theorem t (n : Nat) : n + 0 = n := by\n  intro\n  bad_tactic\n"


def test_lean_adapter_reads_messages_and_positions(tmp_path: Path) -> None:
    lean = _StubLean(tmp_path / "lean", plain_sandbox, timeout=20)
    ok = lean.check(LEAN_OK)
    assert ok.ok and ok.diagnostics == ()
    bad = lean.check(LEAN_BAD)
    assert not bad.ok
    error = bad.first_error
    assert error is not None and (error.line, error.column, error.end_column) == (3, 2, 12)
    assert LEAN_BAD.splitlines()[2][error.column : error.end_column] == "bad_tactic"
    lean.close()


def test_lean_adapter_goal_before_a_tactic(tmp_path: Path) -> None:
    lean = _StubLean(tmp_path / "lean", plain_sandbox, timeout=20)
    state = lean.goal_at(LEAN_BAD, LEAN_BAD.index("bad_tactic"))
    assert state is not None and state.goals[0].hypotheses == ("n : Nat",)
    assert state.goals[0].conclusion == "n + 0 = n"
    lean.close()


def test_lean_adapter_survives_hangs_and_deaths(tmp_path: Path) -> None:
    lean = _StubLean(tmp_path / "lean", plain_sandbox, timeout=20)
    hung = lean.check("-- hang\n", timeout=1)
    assert hung.timed_out and "restarted" in hung.failure
    died = lean.check("-- die\n")
    assert not died.ok and "died" in died.failure
    assert lean.check(LEAN_OK).ok and lean.restarts == 2
    lean.close()


def test_lean_goal_printout() -> None:
    goals = parse_lean_goals("case h\nx : Nat\nh : x > 0\n⊢ x ≠ 0\n\n⊢ True")
    assert [g.conclusion for g in goals] == ["x ≠ 0", "True"]
    assert goals[0].hypotheses == ("x : Nat", "h : x > 0")


ISA_OK = 'theory Check imports Main begin\nlemma "n + 0 = (n::nat)"\n  by simp\nend\n'
ISA_BAD = 'theory Check imports Main begin\nlemma "\\<forall>n. n + 0 = (n::nat)"\n  by bad_method\nend\n'


def test_isabelle_adapter_reads_tasks_and_symbol_positions(tmp_path: Path) -> None:
    isabelle = _StubIsabelle(tmp_path / "isa", plain_sandbox, timeout=20)
    assert isabelle.check(ISA_OK).ok
    bad = isabelle.check(ISA_BAD)
    assert not bad.ok
    error = bad.first_error
    assert error is not None and error.line == 3
    assert ISA_BAD.splitlines()[2][error.column : error.end_column] == "bad_method"
    assert (tmp_path / "isa" / "Check.thy").read_text() == ISA_BAD
    assert "theory NAME" in isabelle.check("lemma x: True by simp").failure
    isabelle.close()


def test_isabelle_adapter_state_and_timeouts(tmp_path: Path) -> None:
    isabelle = _StubIsabelle(tmp_path / "isa", plain_sandbox, timeout=20)
    state = isabelle.goal_at(ISA_OK, ISA_OK.index("by simp"))
    assert state is not None and state.goals[0].conclusion == "n + 0 = n"
    hung = isabelle.check(ISA_OK.replace("by simp", "(* hang *) by simp"), timeout=1)
    assert hung.timed_out
    assert isabelle.check(ISA_OK).ok and isabelle.restarts == 1
    isabelle.close()


def test_isabelle_state_printout() -> None:
    state = parse_isabelle_state("proof (prove)\ngoal (2 subgoals):\n 1. A \\<Longrightarrow> B\n 2. C")
    assert state is not None and [g.conclusion for g in state.goals] == ["A \\<Longrightarrow> B", "C"]
    empty = parse_isabelle_state("proof (prove)\ngoal:\nNo subgoals!")
    assert empty is not None and empty.goals == ()


@pytest.mark.image
def test_lean_image_checks_a_real_proof(tmp_path: Path) -> None:
    if shutil.which("repl") is None:
        pytest.skip("the Lean REPL is not installed (build sandboxes/images/lean4; it needs network)")
    lean = LeanRepl(tmp_path / "lean", plain_sandbox)
    assert lean.check("theorem t : 1 + 1 = 2 := rfl").ok
    assert not lean.check("theorem t : 1 + 1 = 3 := rfl").ok
    lean.close()


@pytest.mark.image
@pytest.mark.slow
def test_isabelle_image_checks_a_real_proof(tmp_path: Path) -> None:
    if shutil.which("isabelle") is None:
        pytest.skip("Isabelle is not installed (build sandboxes/images/isabelle; it needs network)")
    isabelle = IsabelleServer(tmp_path / "isa", plain_sandbox)
    assert isabelle.check(ISA_OK).ok
    assert not isabelle.check(ISA_BAD).ok
    isabelle.close()
