"""The write-up: accepted results only, every number traceable; model prose checked for invented numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents import RunContext
from agents._writer import write_report
from agents.llm import LLMConfig, OpenAIChat
from api._settings import Settings, build_catalog
from runs import ExperimentSpec, GateResult, RunStore
from tests.llm_server import Reply, Rule, ScriptedLLMServer
from verifiers import check_prose, numbers_in


def test_numbers_are_read_as_written() -> None:
    found = numbers_in("RMSE 0.0042 at Re 1,000 (12.5 %), 3 runs, 1e-3 tolerance, -0.21 and [V12]")
    assert [value for _, value in found] == [0.0042, 1000.0, 12.5, 3.0, 0.001, -0.21]


@pytest.mark.parametrize(
    ("prose", "ok"),
    [
        ("The error was 0.0042 of the lid speed.", True),
        ("The error was 0.004 of the lid speed.", True),  # a fair rounding of 0.0042
        ("The error was 0.005 of the lid speed.", False),
        ("The error was 0.42 % of the lid speed.", True),
        ("All 2 experiments passed at Re 100 and 400.", True),
        ("The error fell by 37 % after refinement.", False),
    ],
)
def test_write_up_gate_accepts_only_recorded_numbers(prose: str, ok: bool) -> None:
    result = check_prose(prose, [0.0042, 2, 100, 400])
    assert (result.decision == "accept") is ok, result.reasons


def _populated_run(store: RunStore, tmp_path: Path) -> tuple[str, RunContext]:
    catalog = build_catalog(Settings())
    task = catalog.get("cfd/cavity")
    run = store.create_run(task, environment={"python": "3.11"})
    good = store.add_experiment(
        run.id, ExperimentSpec(key="re=100", task_id=task.id, params={"case": "cavity", "re": 100})
    )
    bad = store.add_experiment(
        run.id, ExperimentSpec(key="re=400", task_id=task.id, params={"case": "cavity", "re": 400})
    )
    assert good.id is not None and bad.id is not None
    figure = tmp_path / "fields.png"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.imsave(figure, np.random.default_rng(0).random((20, 20)))
    store.add_artifact(run.id, figure, kind="image", name="re=100/figures/fields.png", experiment_id=good.id)
    store.add_verdict(
        run.id, good.id, GateResult(gate="comparator", decision="accept", reasons=["ok"], metrics={"rmse_u": 0.0042})
    )
    store.add_verdict(
        run.id,
        bad.id,
        GateResult(gate="comparator", decision="revise", reasons=["rmse 0.31 too high"], metrics={"rmse_u": 0.31}),
    )
    store.update_experiment(good.id, decision="accept", status="completed")
    store.update_experiment(bad.id, decision="revise", status="completed")
    context = RunContext(
        store=store, run_id=run.id, task=task, workload=catalog.workload_for(task), sandbox_factory=lambda path: None
    )  # type: ignore[arg-type,return-value]
    return run.id, context


def test_report_lists_only_accepted_results(store: RunStore, tmp_path: Path) -> None:
    run_id, context = _populated_run(store, tmp_path)
    report = write_report(context).read_text()
    results = report.split("## Accepted results")[1].split("## Appendix")[0]
    appendix = report.split("## Appendix")[1]
    assert "### re=100" in results and "re=400" not in results and "0.31" not in results
    assert "`re=400`: revise" in appendix
    assert "| rmse_u | 0.0042 | comparator [V1] |" in results
    html = (store.run_dir(run_id) / "report.html").read_text()
    assert "data:image/png;base64," in html and "<table>" in html
    kinds = sorted(a.name for a in store.artifacts_of(run_id) if a.kind == "report")
    assert kinds == ["report.html", "report.md"]


def test_the_accepted_proof_is_in_the_report_and_a_rejected_one_is_not(store: RunStore, tmp_path: Path) -> None:
    run_id, context = _populated_run(store, tmp_path)
    good, bad = store.experiments(run_id)
    assert good.id is not None and bad.id is not None
    accepted = "Theorem t : 1 + 1 = 2.\nProof.\n  reflexivity.\nQed.\n"
    store.add_artifact_bytes(run_id, accepted.encode(), kind="proof", name="re=100/proof.v", experiment_id=good.id)
    store.add_artifact_bytes(
        run_id,
        b"Theorem t : 2 = 3.\nProof.\n  omega_wrong.\nAdmitted.\n",
        kind="proof",
        name="re=400/proof.v",
        experiment_id=bad.id,
    )
    report = write_report(context).read_text()
    results = report.split("## Accepted results")[1].split("## Appendix")[0]
    assert "```coq\nTheorem t : 1 + 1 = 2.\nProof.\n  reflexivity.\nQed.\n```" in results
    digest = next(a.sha256 for a in store.artifacts_of(run_id, good.id) if a.kind == "proof")
    assert f"artifact sha256 {digest}" in results
    assert "omega_wrong" not in report and "Admitted" not in report
    assert "reflexivity" in (store.run_dir(run_id) / "report.html").read_text()


def _with_llm(context: RunContext, server: ScriptedLLMServer) -> RunContext:
    context.llm = OpenAIChat(LLMConfig(base_url=server.url, model="writer-model"))
    return context


def test_model_prose_with_an_invented_number_is_dropped(store: RunStore, tmp_path: Path) -> None:
    run_id, context = _populated_run(store, tmp_path)
    invented = "At Re 100 the centreline RMSE was 0.0031 [V1], a clear improvement."
    with ScriptedLLMServer([Rule("Write a short summary", [Reply(content=invented)])]) as server:
        report = write_report(_with_llm(context, server)).read_text()
        sent = json.dumps(server.requests[0]["body"])
        assert "re=400" not in sent  # unaccepted results are never shown to the writer model
    assert "0.0031" not in report
    assert "rejected by the write-up gate" in report and "0.0031" in store.verdicts(run_id)[-1].reasons[0]
    writeup = [v for v in store.verdicts(run_id) if v.gate == "write-up"]
    assert [v.decision for v in writeup] == ["reject"]


def test_model_prose_that_sticks_to_the_record_is_kept(store: RunStore, tmp_path: Path) -> None:
    run_id, context = _populated_run(store, tmp_path)
    faithful = "At Re 100 the centreline RMSE was 0.0042 of the lid speed [V1]."
    with ScriptedLLMServer([Rule("Write a short summary", [Reply(content=faithful)])]) as server:
        report = write_report(_with_llm(context, server)).read_text()
    assert faithful in report.split("## Summary")[1]
    assert [v.decision for v in store.verdicts(run_id) if v.gate == "write-up"] == ["accept"]
