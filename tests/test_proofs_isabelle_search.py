"""Isabelle end to end on a stand-in launcher (tests/fixtures/provers/fake_isabelle.py; no Isabelle here).

The stand-in answers `isabelle server -n NAME -c` the way the real console does (the server's
address line, its `OK` greeting, then the documented protocol) with what Isabelle printed for the
example theorem `double_mono` (tools/proofs/examples/isabelle-double.yaml), and `isabelle build`
for the gate. What is tested: the real `IsabelleServer` adapter through its own start-up; the
correction loop replacing a failing method by what `try0`/`sledgehammer` found; and the whole
workload through `agent run` (search, then the Isabelle gate) with its store records, a cheat
refused end to end, and `agent check` of hand-written theories.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agents.proof_search import ISABELLE_SKELETONS, BuiltinProposer, ProofSearch, SearchBudget
from runs import RunStore
from sandboxes import LocalSandbox, Sandbox
from tests.conftest import REPO, agent
from tools.proofs import IsabelleServer, isabelle_problem

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "provers"
EXAMPLE = REPO / "tools" / "proofs" / "examples" / "isabelle-double.yaml"
HEADER = 'theory Double imports Main begin\n\ndefinition double :: "nat \\<Rightarrow> nat" where "double n = 2 * n"\n'
STATEMENT = 'theorem double_mono: assumes h: "a < (b::nat)" shows "double a < double b"'
PROBLEM = isabelle_problem("proofs/isabelle-double", HEADER + "\n" + STATEMENT + "\n  sorry\n\nend\n")
BUDGET = SearchBudget(attempts=20, seconds=60, llm_backoff_seconds=0)


def theory(proof: str) -> str:
    return f"{HEADER}\n{STATEMENT}\n  {proof}\n\nend\n"


def plain_sandbox(workdir: Path, **_: object) -> Sandbox:
    return LocalSandbox(workdir=workdir, isolation=False)


def install(folder: Path) -> Path:
    """The stand-in as an `isabelle` executable in `folder` (its switch files go beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    launcher = folder / "isabelle"
    launcher.write_text(f"#!{sys.executable}\n" + (FIXTURES / "fake_isabelle.py").read_text())
    launcher.chmod(0o755)
    return launcher


def server_commands(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "server-commands.jsonl").read_text().splitlines()]


@pytest.fixture
def server(tmp_path: Path) -> Any:
    prover = IsabelleServer(tmp_path / "search", plain_sandbox, isabelle=str(install(tmp_path / "tools")), timeout=30)
    yield prover
    prover.close()


def test_the_adapter_starts_through_the_console_greeting_and_reads_located_errors(
    server: IsabelleServer, tmp_path: Path
) -> None:
    assert server.version() == "Isabelle2024"
    good = server.check(theory("using h unfolding double_def by simp"))
    assert good.ok and good.failure == "" and good.diagnostics == ()
    source = theory("by auto")
    bad = server.check(source)
    error = bad.first_error
    assert not bad.ok and error is not None and error.message.startswith("Failed to apply initial proof method")
    assert source.splitlines()[error.line - 1][error.column : error.end_column] == "by auto"
    state = server.goal_at(source, source.index("by auto"))
    assert state is not None and [goal.conclusion for goal in state.goals] == ["double a < double b"]
    split = theory(
        "unfolding double_def\n  apply (rule mult_strict_left_mono)\n  using h apply simp\n  apply simp\n  done"
    )
    state = server.goal_at(split, split.index("using h apply"))
    assert state is not None and [goal.conclusion for goal in state.goals] == ["a < b", "0 < 2"]
    server.close()
    commands = [entry["command"] for entry in server_commands(tmp_path / "tools")]
    assert commands == ["session_start"] + ["use_theories", "purge_theories"] * 4 + ["session_stop"]


def test_a_failing_isabelle_method_is_replaced_by_what_sledgehammer_found(
    server: IsabelleServer, tmp_path: Path
) -> None:
    drafts = BuiltinProposer(skeletons=(("auto", ("by auto",)),))
    result = ProofSearch(PROBLEM, server, BUDGET, proposer=drafts, imports="").run()
    assert result.solved, result.log
    assert result.source == theory("by (simp add: double_def h)")
    first = next(entry for entry in result.log if entry["kind"] == "check")
    assert not first["ok"] and first["error"].startswith("Failed to apply initial proof method")
    assert first["diagnosis"] == "step"
    probe = next(entry for entry in result.log if entry["kind"] == "probe")
    assert probe["ok"] and probe["winner"] == "simp" and probe["tactic"] == "by (simp add: double_def h)"
    probed = [entry for entry in server_commands(tmp_path / "tools") if entry["command"] == "use_theories"]
    assert len(probed) >= 3  # the draft, the probe, the replay


def test_a_terminal_method_that_leaves_goals_is_replaced_not_extended(server: IsabelleServer, tmp_path: Path) -> None:
    """`by auto` that runs but does not finish: Isabelle reports "Failed to finish proof" at the `by`. The
    method is the failing step; adding steps after a terminal `by` can never help."""
    (tmp_path / "tools" / "auto_leaves_goals").write_text("")
    drafts = BuiltinProposer(skeletons=(("auto", ("by auto",)),))
    result = ProofSearch(PROBLEM, server, BUDGET, proposer=drafts, imports="").run()
    first = next(entry for entry in result.log if entry["kind"] == "check")
    assert not first["ok"] and first["error"].startswith("Failed to finish proof")
    assert first["diagnosis"] == "step"
    assert result.solved, result.log
    assert result.source == theory("by (simp add: double_def h)")


def test_the_loop_finds_nothing_when_sledgehammer_finds_nothing(server: IsabelleServer, tmp_path: Path) -> None:
    (tmp_path / "tools" / "sledgehammer_finds_nothing").write_text("")
    drafts = BuiltinProposer(skeletons=ISABELLE_SKELETONS)
    result = ProofSearch(PROBLEM, server, SearchBudget(attempts=6, seconds=30), proposer=drafts, imports="").run()
    probes = [entry for entry in result.log if entry["kind"] == "probe"]
    assert not result.solved and probes and not any(entry["ok"] for entry in probes)


def test_an_isabelle_statement_that_does_not_parse_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandboxes import LocalSandboxConfig
    from tools import TaskError
    from tools.proofs import CoqConfig, check_statement

    # The stand-in lives in a temporary folder the isolated sandbox does not show: run it unisolated.
    monkeypatch.setattr(
        "tools.proofs._user_theorem.LocalSandboxConfig", lambda: LocalSandboxConfig(unsafe_no_isolation=True)
    )
    paths = SimpleNamespace(lean_repl="repl", lean_project="", isabelle=str(install(tmp_path / "tools")))
    good: dict[str, object] = {"prover": "isabelle", "header": HEADER, "statement": STATEMENT}
    check_statement(good, "proofs/isabelle-double", CoqConfig(), paths)
    bad: dict[str, object] = {
        **good,
        "statement": 'theorem double_mono:\n  assumes h: "a < (b::nat)" shows "double a <"',
    }
    # Columns 34-46 of the user's line 2: the proposition, located past the header's `\\<Rightarrow>` symbol.
    message = r"does not compile in isabelle: line 2, characters 34-46: Inner syntax error. Failed to parse prop$"
    with pytest.raises(TaskError, match=message):
        check_statement(bad, "proofs/isabelle-double", CoqConfig(), paths)


def run_example(home: Path, tools: Path) -> dict[str, Any]:
    env = {"LABGATE_ISABELLE": str(tools / "isabelle")}
    result = agent("run", str(EXAMPLE), "--unsafe-no-isolation", "--json", home=home, env=env, timeout=300)
    assert result.returncode in (0, 1), result.stderr + result.stdout
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


@pytest.mark.slow
def test_isabelle_end_to_end_search_and_gate_on_the_stand_in(home: Path, tmp_path: Path) -> None:
    install(tmp_path / "tools")
    summary = run_example(home, tmp_path / "tools")
    assert summary["accepted"] == ["double_mono"] and summary["rejected"] == []
    [verdict] = summary["verdicts"]
    assert verdict["gate"] == "proof-check" and verdict["decision"] == "accept"
    assert verdict["reasons"] == [
        "a clean Isabelle build (quick_and_dirty off) proves double_mono for the task's statement with no oracle"
    ]
    # The search went through the server (sledgehammer's find replayed), the gate through `isabelle build`.
    commands = [entry["command"] for entry in server_commands(tmp_path / "tools")]
    assert commands[0] == "session_start" and commands[-1] == "session_stop" and "use_theories" in commands
    [build] = (tmp_path / "tools" / "builds.log").read_text().splitlines()
    assert build.startswith("build -c -o quick_and_dirty=false") and build.endswith("Labgate_Check")
    run_id = summary["run_id"]
    proof = home / "runs" / run_id / "experiments" / "double_mono" / "Proof.thy"
    assert proof.read_text() == theory("by (simp add: double_def h)")
    store = RunStore(home)
    try:
        [experiment] = store.experiments(run_id)
        assert experiment.key == "double_mono" and experiment.status == "completed"
        artifacts = {artifact.name: artifact for artifact in store.artifacts_of(run_id, experiment.id)}
        assert artifacts["double_mono/Proof.thy"].kind == "proof"
        assert verdict["evidence"] == [artifacts["double_mono/Proof.thy"].sha256]  # the gate read that file
    finally:
        store.engine.dispose()
    report = Path(summary["report"]).read_text()
    assert report.startswith('# double\\_mono: assumes h: "a \\< (b::nat)" shows "double a \\< double b"')
    assert "```isabelle\ntheory Double imports Main begin\n" in report
    assert "  by (simp add: double_def h)\n\nend\n```" in report


@pytest.mark.slow
def test_isabelle_end_to_end_refuses_a_proof_the_clean_build_fails(home: Path, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    install(tools)
    (tools / "build_fails").write_text("")  # the server's session accepts it, the clean build does not
    summary = run_example(home, tools)
    assert summary["accepted"] == [] and summary["rejected"] == ["double_mono"]
    assert summary["verdicts"][0]["reasons"] == [
        "the clean Isabelle build (quick_and_dirty off) fails: Failed to finish proof:"
    ]
    assert "No experiment was accepted" in Path(summary["report"]).read_text()


@pytest.mark.slow
def test_isabelle_end_to_end_never_accepts_the_unproved_file_of_a_failed_search(home: Path, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    install(tools)
    (tools / "sledgehammer_finds_nothing").write_text("")
    summary = run_example(home, tools)
    assert summary["accepted"] == [] and summary["rejected"] == ["double_mono"]
    proof = home / "runs" / summary["run_id"] / "experiments" / "double_mono" / "Proof.thy"
    text = proof.read_text()
    assert text.startswith(HEADER) and text.split(STATEMENT)[1].split() == ["sorry", "end"]  # left unproved
    assert summary["verdicts"][0]["reasons"] == ["the theory uses sorry (`sorry`)"]
    assert not (tools / "builds.log").exists()  # refused on its text, never built


@pytest.mark.slow
def test_agent_check_of_hand_written_theories_for_the_example(home: Path, tmp_path: Path) -> None:
    env = {"LABGATE_ISABELLE": str(install(tmp_path / "tools"))}
    honest = tmp_path / "Proof.thy"
    honest.write_text(theory("using h unfolding double_def by simp"))
    accepted = agent("check", str(EXAMPLE), str(honest), "--json", "--unsafe-no-isolation", home=home, env=env)
    assert accepted.returncode == 0, accepted.stderr + accepted.stdout
    assert json.loads(accepted.stdout.strip().splitlines()[-1])["decision"] == "accept"
    cheat = tmp_path / "Cheat.thy"
    cheat.write_text(theory("(* proved on paper *) sorry"))
    rejected = agent("check", str(EXAMPLE), str(cheat), "--json", "--unsafe-no-isolation", home=home, env=env)
    assert rejected.returncode == 1, rejected.stderr + rejected.stdout
    summary = json.loads(rejected.stdout.strip().splitlines()[-1])
    assert summary["decision"] == "reject" and summary["verdicts"][0]["reasons"] == ["the theory uses sorry (`sorry`)"]
