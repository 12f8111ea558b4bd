"""One judging path: `verifiers.judge` for runs and `agent check`, gates built with their settings and
found through entry points, and one report shape and set of exit codes for every workload."""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runs import ExperimentSpec, GateResult, TaskSpec
from sandboxes import LocalSandbox
from tests.conftest import REPO, agent
from tools import ExperimentOutcome, OutputFile, forget_plugins
from tools.kernels import SUITE, KernelsWorkload
from tools.proofs import CoqConfig, ProofsWorkload, resolve_problem
from verifiers import (
    Gate,
    GateContext,
    Judgement,
    UnknownGateError,
    build_gates,
    gate_class,
    gate_names,
    gate_options,
    judge,
)
from verifiers.proofs import ProofGate

REPORT_KEYS = {
    "decision",
    "task",
    "workload",
    "source",
    "verdicts",
    "skipped",
    "refused",
    "gate_deviations",
    "params",
    "metrics",
    "workdir",
    "details",
}
"""What `agent check --json` prints for every workload."""

PROOF_TASK = "proofs/minif2f-valid/mathd_algebra_10"
GOOD_PROOF = "Proof.\n  rewrite Rabs_pos_eq; lra.\nQed."  # needs Lra: the fake coqc never gets that far


# -- registration ---------------------------------------------------------------------------------


def test_every_gate_is_found_through_its_entry_point() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["labgate.gates"]
    assert gate_names() == sorted(declared)
    for name in declared:
        assert gate_class(name).name == name
    import verifiers

    assert not hasattr(verifiers, "register_gate")


def test_an_unknown_gate_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UnknownGateError, match=r"unknown gate 'nope'; known gates: .*proof-check"):
        gate_class("nope")
    with pytest.raises(ValueError, match="unknown gate 'nope'"):
        gate_options("nope", {})


@pytest.fixture
def extra_distribution(tmp_path: Path) -> Iterator[Path]:
    """An installed distribution (a dist-info on the path) that registers one gate of its own."""
    (tmp_path / "labgate_extra_gate.py").write_text(
        "from runs import GateResult\n"
        "from verifiers import Gate, GateContext, GateOptions\n\n"
        "class Options(GateOptions):\n    note: str = 'fine'\n\n"
        "class AlwaysAccept(Gate):\n    name = 'always-accept'\n    Options = Options\n\n"
        "    def check(self, context: GateContext) -> GateResult:\n"
        "        return self.verdict('accept', [self.options.note])\n"
    )
    info = tmp_path / "labgate_extra_gate-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: labgate-extra-gate\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[labgate.gates]\nalways-accept = labgate_extra_gate:AlwaysAccept\n")
    sys.path.insert(0, str(tmp_path))
    forget_plugins()
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("labgate_extra_gate", None)
        forget_plugins()


def test_a_gate_of_another_distribution_is_built_with_its_options(extra_distribution: Path, tmp_path: Path) -> None:
    assert "always-accept" in gate_names()
    task = TaskSpec(
        id="x/y", workload="kernels", gates=["always-accept"], gate_options={"always-accept": {"note": "read"}}
    )
    [gate] = build_gates(task)
    judgement = judge(task, _spec(task), tmp_path, _outcome(), gates=[gate], evidence={})
    assert judgement.decision == "accept" and judgement.verdicts[0].reasons == ["read"]
    with pytest.raises(ValueError, match="nope: unknown field"):
        gate_options("always-accept", {"nope": 1})


# -- construction --------------------------------------------------------------------------------


def test_gates_are_built_with_their_options_and_the_workload(tmp_path: Path) -> None:
    workload = KernelsWorkload()
    task = next(t for t in workload.tasks() if t.id == "kernels/saxpy")
    task.gate_options["kernel-heldout"] = {"min_speedup": 1.5}
    correctness, heldout = build_gates(task, workload)
    assert heldout.options.model_dump() == {"min_speedup": 1.5}
    assert correctness.options.model_dump() == {"min_speedup": 0.9}
    assert correctness.workload is workload and heldout.workload is workload
    task.gate_options["kernel-heldout"] = {"min_speedup": -1}
    _, refused = build_gates(task, workload)
    judgement = judge(task, _spec(task), tmp_path, _outcome(), gates=[refused], evidence={})
    [verdict] = judgement.verdicts
    assert verdict.gate == "kernel-heldout" and verdict.decision == "reject"
    assert verdict.reasons[0].startswith("invalid gate options: min_speedup")


def _fake_coq(where: Path) -> tuple[Path, Path]:
    """A coqc (and its coqchk) that logs every invocation and fails, standing in for Coq."""
    where.mkdir(parents=True, exist_ok=True)
    log = where / "invocations.log"
    for tool in ("coqc", "coqchk"):
        script = where / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\necho "not really Coq" >&2\nexit 1\n')
        script.chmod(0o755)
    return where / "coqc", log


def test_the_proofs_workload_coqc_reaches_the_proof_gate(tmp_path: Path) -> None:
    coqc, log = _fake_coq(tmp_path / "bin")
    workload = ProofsWorkload(CoqConfig(coqc=str(coqc)))
    task = workload.tasks()[0].model_copy(update={"id": PROOF_TASK})
    task.params = {"set": "minif2f-valid", "problem": "mathd_algebra_10"}
    [gate] = build_gates(task, workload)
    assert isinstance(gate, ProofGate) and gate.coq.coqc == str(coqc)
    directory = tmp_path / "experiment"
    directory.mkdir()
    problem = resolve_problem(task.params, task.id)
    (directory / "proof.v").write_text(problem.theorem_file(GOOD_PROOF))
    outcome = ExperimentOutcome(
        key=problem.name, status="completed", files=[OutputFile(path="proof.v", kind="proof", role="proof")]
    )
    judgement = judge(
        task,
        _spec(task),
        directory,
        outcome,
        gates=[gate],
        evidence={},
        sandbox_factory=lambda workdir, **_: LocalSandbox(workdir=workdir, isolation=False),
    )
    assert judgement.decision == "reject"
    assert log.is_file() and "coqc" in log.read_text(), judgement.verdicts


def test_labgate_coqc_reaches_the_gate_of_agent_check(home: Path, tmp_path: Path) -> None:
    coqc, log = _fake_coq(tmp_path / "bin")
    proof = tmp_path / "proof.v"
    proof.write_text(resolve_problem({"set": "minif2f-valid", "problem": "mathd_algebra_10"}).theorem_file(GOOD_PROOF))
    env = {"LABGATE_COQC": str(coqc)}
    result = agent("check", PROOF_TASK, str(proof), "--json", "--unsafe-no-isolation", home=home, env=env)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == REPORT_KEYS and report["decision"] == "reject"
    assert report["verdicts"][0]["gate"] == "proof-check"
    assert "coqc" in log.read_text()
    # Each check keeps the copy it judges in its own folder, the gates' runs beside it: two checks never share
    # a held-out flow, a baseline or a failure.
    second = agent("check", PROOF_TASK, str(proof), "--json", "--unsafe-no-isolation", home=home, env=env)
    assert second.returncode == 1, second.stderr
    checks = sorted((home / "checks").iterdir())
    assert len(checks) == 2 and all((check / "case").is_dir() for check in checks)


# -- the judging path ---------------------------------------------------------------------------


class _Scripted(Gate):
    """A gate whose decision the test sets; it counts its calls and records the verdicts before it."""

    name = "scripted"

    def __init__(self, label: str, decision: str, *, needs_run: bool = False, crash: bool = False) -> None:
        super().__init__()
        self.label, self.decision, self.crash = label, decision, crash
        self.needs_run = needs_run
        self.calls = 0
        self.prior: list[str] = []

    def check(self, context: GateContext) -> GateResult:
        self.calls += 1
        self.prior = [verdict.gate for verdict in context.prior]
        if self.crash:
            raise RuntimeError("boom")
        return GateResult(gate=self.label, decision=self.decision)


def _spec(task: TaskSpec) -> ExperimentSpec:
    return ExperimentSpec(key="k", task_id=task.id, params=dict(task.params))


def _outcome() -> ExperimentOutcome:
    return ExperimentOutcome(key="k", status="completed")


def _judge(tmp_path: Path, gates: list[Gate], **extra: Any) -> Judgement:
    task = TaskSpec(id="x/y", workload="kernels")
    return judge(task, _spec(task), tmp_path, _outcome(), gates=gates, evidence={}, **extra)


def test_the_first_gate_that_does_not_accept_decides(tmp_path: Path) -> None:
    gates: list[Gate] = [_Scripted("a", "accept"), _Scripted("b", "revise"), _Scripted("c", "reject")]
    judgement = _judge(tmp_path, gates)
    assert judgement.decision == "revise"
    assert [v.gate for v in judgement.verdicts] == ["a", "b", "c"]
    assert gates[2].prior == ["a", "b"]
    crashing = _judge(tmp_path, [_Scripted("a", "accept", crash=True)])
    assert crashing.decision == "reject"
    assert "gate failed while checking: RuntimeError: boom" in crashing.verdicts[0].reasons[0]


def test_a_skipped_gate_never_lets_a_result_pass(tmp_path: Path) -> None:
    mesh = _Scripted("mesh", "accept", needs_run=True)
    skipped = _judge(tmp_path, [_Scripted("a", "accept"), mesh, _Scripted("c", "accept")])
    assert skipped.decision == "inconclusive"
    assert skipped.skipped == ["scripted"] and mesh.calls == 0
    assert [v.gate for v in skipped.verdicts] == ["a", "c"]
    rejected = _judge(tmp_path, [_Scripted("a", "accept"), mesh, _Scripted("c", "reject")])
    assert rejected.decision == "reject"
    ran = _judge(tmp_path, [_Scripted("a", "accept"), mesh], rerun=lambda spec, where: _outcome())
    assert ran.decision == "accept" and ran.skipped == [] and mesh.calls == 1
    only = _judge(tmp_path, [_Scripted("m", "accept", needs_run=True)])
    assert only.decision == "inconclusive" and only.verdicts == []


def test_stored_verdicts_are_never_judged_twice(tmp_path: Path) -> None:
    class Named(_Scripted):
        name = "named"

    first, second = Named("named", "accept"), _Scripted("scripted", "reject")
    stored = GateResult(gate="named", decision="accept", reasons=["judged before the interruption"])
    announced: list[GateResult] = []
    judgement = _judge(tmp_path, [first, second], done={"named": stored}, on_verdict=announced.append)
    assert first.calls == 0 and second.calls == 1 and second.prior == ["named"]
    assert judgement.verdicts == [stored, announced[0]]
    assert [v.gate for v in announced] == ["scripted"]


# -- `agent check`: one report, one set of exit codes -----------------------------------------------


def test_bad_input_is_exit_2_for_every_workload(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    monkeypatch.setenv("LABGATE_HOME", str(home))
    kernel = tmp_path / "k.cl"
    kernel.write_text(SUITE["saxpy"].seed)
    for args, message in (
        (["check", "cfd/cavity", str(tmp_path / "nope")], "nope does not exist"),
        (["check", "cfd/cavity", str(kernel)], "is not an OpenFOAM case"),
        (["check", "kernels/saxpy", str(tmp_path)], "is a directory, not a kernel file"),
        (["check", PROOF_TASK, str(tmp_path)], "is a directory, not a proof file"),
        (["check", "proofs/minif2f-valid", str(kernel)], "is a set of problems"),
        (["check", "kernels/saxpy", str(kernel), "--gate-option", "rmse_max=1"], "has the option 'rmse_max'"),
        (["eval-kernel", "kernels/saxpy", str(kernel), "--min-speedup", "5000"], "min_speedup"),
        (["check-proof", PROOF_TASK, str(kernel), "--timeout", "9999"], "timeout"),
    ):
        with pytest.raises(SystemExit) as exited:
            main(args)
        stderr = capsys.readouterr().err
        assert exited.value.code == 2, (args, stderr)
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in stderr, (args, lines)


@pytest.mark.slow
@pytest.mark.opencl
def test_a_kernel_that_does_not_compile_is_rejected_with_the_same_report(
    opencl: None, home: Path, tmp_path: Path
) -> None:
    kernel = tmp_path / "broken.cl"
    kernel.write_text(SUITE["saxpy"].seed.replace("{", "{ this is not OpenCL;", 1))
    result = agent("check", "kernels/saxpy", str(kernel), "--json", home=home)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == REPORT_KEYS
    assert report["decision"] == "reject" and report["workload"] == "kernels" and report["skipped"] == []
    assert [v["gate"] for v in report["verdicts"]] == ["kernel-correctness", "kernel-heldout"]
    assert all(v["decision"] == "reject" for v in report["verdicts"])
    assert report["params"]["kernel"] == "saxpy"


@pytest.mark.slow
@pytest.mark.opencl
def test_the_seed_itself_needs_no_timing_against_itself(opencl: None, home: Path, tmp_path: Path) -> None:
    """Timing the seed against itself measures only noise, which on a busy machine can straddle 0.9x."""
    kernel = tmp_path / "seed.cl"
    kernel.write_text(SUITE["saxpy"].seed)
    result = agent("check", "kernels/saxpy", str(kernel), "--json", home=home)
    assert result.returncode == 0, result.stderr
    heldout = json.loads(result.stdout)["verdicts"][1]
    assert heldout["decision"] == "accept" and "the seed itself, 1x by definition" in heldout["reasons"][0]
    assert "correct at all" in heldout["reasons"][0]
    stricter = agent("check", "kernels/saxpy", str(kernel), "--gate-option", "min_speedup=1.5", "--json", home=home)
    assert stricter.returncode == 1, stricter.stderr
    heldout = json.loads(stricter.stdout)["verdicts"][1]
    assert heldout["decision"] == "reject" and "the seed itself" in heldout["reasons"][0]
    changed = tmp_path / "changed.cl"
    changed.write_text(SUITE["saxpy"].seed + "\n")  # one byte more is another kernel: it is timed
    timed = json.loads(agent("check", "kernels/saxpy", str(changed), "--json", home=home).stdout)["verdicts"][1]
    assert "interleaved rounds" in " ".join(timed["reasons"])


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_check_and_a_run_give_the_same_verdicts(home: Path, tmp_path: Path) -> None:
    params = {"header": "Require Import Arith.\n", "statement": "Theorem two : 1 + 1 = 2."}
    task = tmp_path / "two.json"
    task.write_text(json.dumps({"id": "proofs/two", "workload": "proofs", "params": params, "gates": ["proof-check"]}))
    problem = resolve_problem(params, "proofs/two")
    for script, decision, code in (("Proof. reflexivity. Qed.", "accept", 0), ("Proof. Admitted.", "reject", 1)):
        proof = tmp_path / f"{decision}.v"
        proof.write_text(problem.theorem_file(script))  # the very file the run's experiment leaves
        checked = agent("check", str(task), str(proof), "--json", home=home)
        assert checked.returncode == code, checked.stderr
        report = json.loads(checked.stdout)
        assert set(report) == REPORT_KEYS and report["decision"] == decision
        run = agent("run", str(task), "--param", f"proof={script}", "--json", home=home)
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout)
        assert summary["accepted" if decision == "accept" else "rejected"] == ["two"]
        keys = ("gate", "decision", "reasons", "evidence")
        ran = [{key: verdict[key] for key in keys} for verdict in summary["verdicts"]]
        assert ran == [{key: verdict[key] for key in keys} for verdict in report["verdicts"]]
