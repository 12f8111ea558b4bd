"""The correction loop for Lean 4 and Isabelle, on recorded prover answers (no Lean or Isabelle here).

Lean runs through the real `LeanRepl` adapter talking to a stand-in REPL that replays what Lean
answered for one theorem (tests/fixtures/provers/fake_lean_repl.py); Isabelle through a recorded
transcript of server answers (`try0`/`sledgehammer` output included). What is tested is the loop:
draft → check → unsolved goal → automation probe → winner replayed → accepted; an LLM draft whose
step fails gets the prover's error and goal back; and the whole workload through `agent run` with
`prover: lean4` (search, then the Lean gate on stand-ins), where the proof file is `Proof.lean`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.llm import Completion, Message, Usage
from agents.proof_search import (
    ISABELLE_SKELETONS,
    LEAN_SKELETONS,
    BuiltinProposer,
    ConjectureCorrector,
    ProofScript,
    ProofSearch,
    SearchBudget,
    lean_probe_step,
)
from sandboxes import LocalSandbox, Sandbox
from tests.conftest import agent
from tools.proofs import (
    CheckResult,
    Diagnostic,
    GoalState,
    LeanRepl,
    Prover,
    isabelle_problem,
    lean_problem,
    parse_params,
    proof_file_name,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "provers"
LEAN = lean_problem("proofs/demo", "import Mathlib\n\ntheorem demo (a b : ℕ) (h : a < b) : a + 1 ≤ b := by\n  sorry\n")
BUDGET = SearchBudget(attempts=20, seconds=60, llm_backoff_seconds=0)


def plain_sandbox(workdir: Path, **_: object) -> Sandbox:
    return LocalSandbox(workdir=workdir, isolation=False)


def install(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_text(f"#!{sys.executable}\n" + (FIXTURES / f"fake_{name}.py").read_text())
    target.chmod(0o755)
    return target


@pytest.fixture
def lean(tmp_path: Path) -> Any:
    repl = install(tmp_path / "tools", "lean_repl")
    prover = LeanRepl(tmp_path / "search", plain_sandbox, repl=str(repl), timeout=30)
    yield prover
    prover.close()


def test_the_lean_loop_fills_the_unsolved_goal_with_the_probe_winner(lean: LeanRepl, tmp_path: Path) -> None:
    search = ProofSearch(LEAN, lean, BUDGET, proposer=BuiltinProposer(skeletons=LEAN_SKELETONS), imports="")
    result = search.run()
    commands = [json.loads(line) for line in (tmp_path / "tools" / "commands.jsonl").read_text().splitlines()]
    assert [command["cmd"] for command in commands].count("import Mathlib\n") == 1  # imported once
    assert all(command.get("env") == 1 for command in commands[1:])
    assert result.solved, result.log
    assert result.source.endswith(":= by\n  omega\n")
    probes = [entry for entry in result.log if entry["kind"] == "probe"]
    assert probes and probes[0]["ok"] and probes[0]["winner"] == "omega"
    checks = [entry for entry in result.log if entry["kind"] == "check"]
    assert checks[-1]["ok"] and "omega" in checks[-1]["source"]


def test_a_failing_lean_step_is_replaced_by_automation(lean: LeanRepl) -> None:
    drafts = BuiltinProposer(skeletons=(("bad", ("nlinarith [h]",)),))
    result = ProofSearch(LEAN, lean, BUDGET, proposer=drafts, imports="").run()
    assert result.solved
    first = next(entry for entry in result.log if entry["kind"] == "check")
    assert first["diagnosis"] == "step" and "nlinarith" in first["error"]
    assert "h : a < b" in first["goal"] and "a + 1 ≤ b" in first["goal"]  # the goal there, for the run page


class ScriptedLLM:
    """Answers each call with the next reply, recording the prompts."""

    def __init__(self, replies: Sequence[str]) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []

    @property
    def model(self) -> str:
        return "scripted"

    @property
    def usage(self) -> Usage:
        return Usage()

    def complete(self, messages: Sequence[Message], **_: Any) -> Completion:
        self.prompts.append(messages[-1].content)
        return Completion(text=self.replies.pop(0) if self.replies else "", model="scripted")


def test_the_model_gets_lean_errors_and_goals_and_its_revision_is_checked(lean: LeanRepl) -> None:
    llm = ScriptedLLM(
        [
            "```lean\ntheorem demo (a b : ℕ) (h : a < b) : a + 1 ≤ b := by\n  exact h\n```",
            "```lean\ntheorem demo (a b : ℕ) (h : a < b) : a + 1 ≤ b := by\n  omega\n```",
        ]
    )
    conjecture = ConjectureCorrector(llm, LEAN)  # type: ignore[arg-type]
    drafts = BuiltinProposer(skeletons=())
    search = ProofSearch(LEAN, lean, BUDGET, proposer=drafts, conjecture=conjecture, imports="", tactics=())
    search.corrector.fix = lambda script, index, **_: _no_fix(script)  # type: ignore[method-assign]
    result = search.run()
    assert result.solved and result.origin == "llm:revision"
    assert "```lean" in llm.prompts[0] and "Lean proof" in llm.prompts[0]
    assert "tactic 'exact h' failed" in llm.prompts[1] and "⊢ a + 1 ≤ b" in llm.prompts[1]


def _no_fix(script: ProofScript) -> Any:
    from agents.proof_search import StepFix

    return StepFix(None, "", CheckResult(ok=False), prefix_ok=True)


ISABELLE = isabelle_problem(
    "proofs/idemo",
    'theory Demo imports Main begin\n\ntheorem idemo: assumes h: "a < (b::nat)" shows "a + 1 \\<le> b"\n',
)


class RecordedIsabelle(Prover):
    """Isabelle server answers as recorded: try0 finds nothing, sledgehammer finds a metis call."""

    name = "isabelle"

    def __init__(self) -> None:
        self.sources: list[str] = []

    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        self.sources.append(source)
        proof = source.split('\\<le> b"\n', 1)[1]
        if "sledgehammer" in proof:
            stdout = "Sledgehammering...\ncvc5 found a proof...\nTry this: by (metis Suc_leI add_1_right h) (2 ms)"
            return CheckResult(ok=False, stdout=stdout)
        if "by (metis Suc_leI add_1_right h)" in proof:
            return CheckResult(ok=True)
        line = source[: source.index(proof)].count("\n") + 1
        return CheckResult(ok=False, diagnostics=(Diagnostic(line, 2, line, 9, "error", "Failed to finish proof"),))

    def goal_at(self, source: str, position: int, *, timeout: float | None = None) -> GoalState | None:
        return None

    def version(self) -> str:
        return "Isabelle2024 (recorded)"


def test_the_isabelle_loop_replays_what_sledgehammer_found() -> None:
    prover = RecordedIsabelle()
    search = ProofSearch(ISABELLE, prover, BUDGET, proposer=BuiltinProposer(skeletons=ISABELLE_SKELETONS), imports="")
    result = search.run()
    assert result.solved, result.log
    assert "  by (metis Suc_leI add_1_right h)\n\nend\n" in result.source
    assert any("try0\n  sledgehammer\n  oops" in source for source in prover.sources)
    probe = next(entry for entry in result.log if entry["kind"] == "probe")
    assert probe["winner"] == "metis"


def test_probe_step_names_every_lean_tactic_in_order() -> None:
    step = lean_probe_step()
    for name in ("omega", "linarith", "nlinarith", "norm_num", "simp", "aesop", "decide", "positivity"):
        assert f'({name}; trace "labgate-probe:' in step
    assert step.index("omega") < step.index("positivity")


def test_prover_parameter_and_proof_file_name() -> None:
    assert parse_params({"set": "minif2f-valid"}, "t").prover == "coq"
    assert parse_params({"statement": "x", "prover": "lean4"}, "t").prover == "lean4"
    assert [proof_file_name(name) for name in ("coq", "lean4", "isabelle")] == ["proof.v", "Proof.lean", "Proof.thy"]


def test_an_unknown_prover_is_bad_input(home: Path) -> None:
    result = agent("run", "proofs/minif2f-valid/mathd_algebra_10", "--param", "prover=hol4", home=home, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "prover: Input should be 'coq', 'lean4' or 'isabelle'" in result.stderr


@pytest.mark.slow
def test_lean_end_to_end_search_and_gate_on_stand_ins(home: Path, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    repl = install(tools, "lean_repl")
    lean = install(tools, "lean")
    checker = install(tools, "lean4checker")
    (tools / "axioms.txt").write_text("propext")
    task = tmp_path / "demo.yaml"
    task.write_text(
        yaml.safe_dump(
            {
                "id": "proofs/lean-demo",
                "workload": "proofs",
                "gates": ["proof-check"],
                "budget": {"experiments": 1},
                "params": {
                    "prover": "lean4",
                    "header": "import Mathlib\n",
                    "statement": "theorem demo (a b : ℕ) (h : a < b) : a + 1 ≤ b",
                    "seconds": 60,
                    "attempts": 12,
                },
            },
            allow_unicode=True,
        )
    )
    env = {"LABGATE_LEAN_REPL": str(repl), "LABGATE_LEAN": str(lean), "LABGATE_LEAN_CHECKER": str(checker)}
    result = agent("run", str(task), "--unsafe-no-isolation", "--json", home=home, env=env, timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["accepted"] == ["demo"] and summary["rejected"] == []
    verdict = summary["verdicts"][0]
    assert verdict["decision"] == "accept"
    assert verdict["reasons"][0].startswith("Lean's kernel accepts the proof of demo")
    assert "lean4checker replays the module; axioms: propext" in verdict["reasons"][0]
    proof = next(home.rglob("Proof.lean"))
    assert proof.read_text().endswith(":= by\n  omega\n")
    report = Path(summary["report"]).read_text()
    assert report.startswith("# demo: (a b : ℕ)") and "miniF2F" not in report
    assert "```lean4\nimport Mathlib" in report


@pytest.mark.slow
def test_lean_end_to_end_refuses_a_replay_failure(home: Path, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    env = {
        "LABGATE_LEAN_REPL": str(install(tools, "lean_repl")),
        "LABGATE_LEAN": str(install(tools, "lean")),
        "LABGATE_LEAN_CHECKER": str(install(tools, "lean4checker")),
    }
    (tools / "replay_fails").write_text("")
    task = tmp_path / "demo.yaml"
    task.write_text(
        json.dumps(
            {
                "id": "proofs/lean-demo",
                "workload": "proofs",
                "gates": ["proof-check"],
                "params": {
                    "prover": "lean4",
                    "header": "import Mathlib\n",
                    "statement": "theorem demo (a b : ℕ) (h : a < b) : a + 1 ≤ b",
                    "seconds": 60,
                },
            }
        )
    )
    result = agent("run", str(task), "--unsafe-no-isolation", "--json", home=home, env=env, timeout=300)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["accepted"] == [] and summary["rejected"] == ["demo"]
    assert "independent replay" in summary["verdicts"][0]["reasons"][0]


def test_a_lean_statement_that_does_not_compile_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from sandboxes import LocalSandboxConfig
    from tools import TaskError
    from tools.proofs import CoqConfig, check_statement

    # The stand-in lives in a temporary folder the isolated sandbox does not show: run it unisolated.
    monkeypatch.setattr(
        "tools.proofs._user_theorem.LocalSandboxConfig", lambda: LocalSandboxConfig(unsafe_no_isolation=True)
    )
    repl = install(tmp_path / "tools", "lean_repl")
    paths = SimpleNamespace(lean_repl=str(repl), lean_project="", isabelle="isabelle")
    good = {"prover": "lean4", "header": "import Mathlib\n", "statement": "theorem t (n : ℕ) : n + 0 = n"}
    check_statement(good, "proofs/t", CoqConfig(), paths)
    bad = {**good, "statement": "theorem t (n : ℕ) :\n  undefined_thing n = n"}
    with pytest.raises(TaskError, match=r"params\.statement does not compile in lean4: line 2, characters 2-17: "):
        check_statement(bad, "proofs/t", CoqConfig(), paths)
