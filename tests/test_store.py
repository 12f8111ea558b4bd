"""The run store: round trips, idempotence, content addressing, and concurrent writers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from runs import (
    ArtifactNotFoundError,
    ExperimentSpec,
    GateResult,
    RunNotFoundError,
    RunStore,
    TaskSpec,
    combine_decisions,
)


def _task() -> TaskSpec:
    return TaskSpec(id="cfd/test", workload="cfd", params={"case": "cavity"}, gates=["solver-log"])


def test_run_round_trip(store: RunStore) -> None:
    run = store.create_run(_task(), options={"sandbox": "local"}, environment={"python": "3"})
    loaded = store.get_run(run.id)
    assert loaded.task_id == "cfd/test"
    assert loaded.spec["params"] == {"case": "cavity"}
    assert loaded.status == "queued"
    store.set_status(run.id, "running")
    store.set_status(run.id, "finished")
    loaded = store.get_run(run.id)
    assert loaded.status == "finished"
    assert loaded.started_at is not None and loaded.finished_at is not None
    kinds = [event.kind for event in store.events(run.id)]
    assert kinds == ["status", "status"]


def test_unknown_run_raises(store: RunStore) -> None:
    with pytest.raises(RunNotFoundError):
        store.get_run("nope")
    with pytest.raises(RunNotFoundError):
        store.set_status("nope", "failed", "x")


def test_experiments_are_idempotent_per_key(store: RunStore) -> None:
    run = store.create_run(_task())
    spec = ExperimentSpec(key="re=100", task_id="cfd/test", params={"re": 100})
    first = store.add_experiment(run.id, spec)
    second = store.add_experiment(run.id, spec.model_copy(update={"params": {"re": 999}}))
    assert first.id == second.id
    assert second.params == {"re": 100}
    assert len(store.experiments(run.id)) == 1


def test_artifacts_are_content_addressed(store: RunStore, tmp_path: Path) -> None:
    run = store.create_run(_task())
    a = tmp_path / "a.log"
    b = tmp_path / "b.log"
    a.write_text("same bytes")
    b.write_text("same bytes")
    first = store.add_artifact(run.id, a, kind="log")
    second = store.add_artifact(run.id, b, kind="log")
    assert first.sha256 == second.sha256
    path = store.artifacts.open_path(first.sha256)
    assert path.read_text() == "same bytes"
    assert first.media_type == "text/plain"
    assert len(list(store.artifacts.root.rglob("*"))) == 2  # one folder, one file
    with pytest.raises(ArtifactNotFoundError):
        store.artifacts.path_for("../../etc/passwd")
    with pytest.raises(ArtifactNotFoundError):
        store.artifacts.open_path("0" * 64)


def test_verdicts_round_trip(store: RunStore) -> None:
    run = store.create_run(_task())
    experiment = store.add_experiment(run.id, ExperimentSpec(key="k", task_id="cfd/test"))
    result = GateResult(gate="solver-log", decision="rerun", reasons=["diverged"], metrics={"courant_max": 12.5})
    store.add_verdict(run.id, experiment.id, result)
    [verdict] = store.verdicts(run.id, experiment.id)
    assert (verdict.gate, verdict.decision, verdict.reasons, verdict.metrics) == (
        "solver-log",
        "rerun",
        ["diverged"],
        {"courant_max": 12.5},
    )


def test_combined_decision_is_the_first_gate_that_does_not_accept() -> None:
    assert combine_decisions(["accept", "accept"]) == "accept"
    assert combine_decisions(["rerun", "reject"]) == "rerun"
    assert combine_decisions(["accept", "revise", "reject"]) == "revise"
    assert combine_decisions([]) == "reject"


def test_list_runs_newest_first_with_filters(store: RunStore) -> None:
    ids = [store.create_run(_task()).id for _ in range(3)]
    store.set_status(ids[0], "failed", "boom")
    listed = [run.id for run in store.list_runs()]
    assert listed == list(reversed(ids))
    assert [run.id for run in store.list_runs(status="failed")] == [ids[0]]
    assert store.get_run(ids[0]).reason == "boom"


def _writer(home: str, run_id: str, worker: int, count: int) -> None:
    store = RunStore(Path(home))
    for index in range(count):
        store.emit(run_id, "note", f"{worker}-{index}")
        store.add_experiment(run_id, ExperimentSpec(key=f"w{worker}-{index}", task_id="cfd/test"))
        store.add_llm_usage(run_id, tokens=1, cost=0.5)


def test_concurrent_writers_lose_nothing(store: RunStore) -> None:
    run = store.create_run(_task())
    workers, count = 4, 25
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_writer, args=(str(store.home), run.id, worker, count)) for worker in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert len(store.events(run.id)) == workers * count
    assert len(store.experiments(run.id)) == workers * count
    loaded = store.get_run(run.id)
    assert loaded.llm_tokens == workers * count
    assert loaded.llm_cost == pytest.approx(0.5 * workers * count)
