"""The run store: round trips, idempotence, content addressing, and concurrent writers.

Every test runs on SQLite and, where LABGATE_TEST_POSTGRES_URL names a server (CI), on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from runs import (
    ArtifactNotFoundError,
    ExperimentSpec,
    GateResult,
    RunNotFoundError,
    RunStore,
    StoreUnavailableError,
    TaskSpec,
    combine_decisions,
)
from sandboxes import Sandbox
from tests.databases import BACKENDS, database_url, store_on


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, home: Path) -> Iterator[RunStore]:
    with store_on(request.param, home) as store:
        yield store


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


def test_an_experiments_outputs_are_recorded_together_or_not_at_all(store: RunStore, tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    run = store.create_run(_task())
    experiment = store.add_experiment(run.id, ExperimentSpec(key="e1", task_id="cfd/test", params={"re": 100}))
    files = []
    for index in range(3):
        files.append(tmp_path / f"out{index}.log")
        files[-1].write_text(f"output {index}")
    staged = [store.stage_artifact(run.id, path, kind="log", experiment_id=experiment.id) for path in files]
    assert store.artifacts_of(run.id) == []  # staged: bytes stored, nothing recorded yet
    recorded = store.add_artifacts(staged)
    assert [a.name for a in recorded] == ["out0.log", "out1.log", "out2.log"]
    assert all(a.id is not None for a in recorded)
    assert [(a.id, a.sha256) for a in store.artifacts_of(run.id, experiment.id)] == [(a.id, a.sha256) for a in recorded]
    assert store.artifacts.open_path(recorded[1].sha256).read_text() == "output 1"

    orphan = [store.stage_artifact(run.id, files[0], kind="log", name="kept-out.log", experiment_id=experiment.id)]
    orphan.append(store.stage_artifact(run.id, files[1], kind="log", experiment_id=10**9))  # no such experiment
    with pytest.raises(IntegrityError):
        store.add_artifacts(orphan)
    assert len(store.artifacts_of(run.id)) == 3  # the failed batch recorded nothing, the earlier one is kept
    assert store.add_artifacts([]) == []


def test_an_experiment_finished_again_keeps_only_its_last_attempts_outputs(store: RunStore, tmp_path: Path) -> None:
    """A process killed after an attempt's outputs were recorded, before the experiment was marked finished:
    resumed, the experiment ran again, and both attempts' files stayed attached to it (the report showed the
    killed attempt's kernel, which no gate judged)."""
    run = store.create_run(_task())
    experiment = store.add_experiment(run.id, ExperimentSpec(key="e1", task_id="cfd/test", params={"re": 100}))
    assert experiment.id is not None
    (tmp_path / "candidate.cl").write_text("the killed attempt's")
    store.add_artifacts(
        [store.stage_artifact(run.id, tmp_path / "candidate.cl", kind="log", experiment_id=experiment.id)]
    )
    (tmp_path / "candidate.cl").write_text("the judged attempt's")
    again = store.stage_artifact(run.id, tmp_path / "candidate.cl", kind="log", experiment_id=experiment.id)
    store.finish_experiment(experiment.id, [again], status="completed", evidence={"candidate.cl": again.sha256})
    kept = store.artifacts_of(run.id, experiment.id)
    assert [a.sha256 for a in kept] == [again.sha256]
    assert store.experiments(run.id)[0].status == "completed"


def test_a_status_and_its_event_are_written_together(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """An events stream that saw a run end read its remaining events and stopped: a status event committed
    after the status was missed. With the separate write failing, the status and its event still land."""
    run = store.create_run(_task())

    def no_separate_write(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the status event was written apart from the status")

    monkeypatch.setattr(store, "emit", no_separate_write)
    assert store.set_status(run.id, "finished")
    assert store.get_run(run.id).status == "finished"
    assert [(e.kind, e.data) for e in store.events(run.id)][-1] == ("status", {"status": "finished"})
    assert not store.set_status(run.id, "cancelled")  # an ended run is not cancelled: no event either
    assert [e.kind for e in store.events(run.id)].count("status") == 1


def test_a_name_longer_than_the_column_is_stored_alike_on_every_backend(store: RunStore) -> None:
    """A deep output path failed the run on PostgreSQL (which enforces the column's 500 characters) and
    passed on SQLite; both now store its start and its file name around a digest of the whole."""
    run = store.create_run(_task())
    deep = "experiments/base/case/" + "/".join(f"level{index:03d}" for index in range(80)) + "/result.png"
    other = deep.replace("level040", "level04x")
    first = store.add_artifact_bytes(run.id, b"a", kind="image", name=deep)
    second = store.add_artifact_bytes(run.id, b"b", kind="image", name=other)
    stored = [item.name for item in store.artifacts_of(run.id)]
    assert stored == [first.name, second.name] and len(deep) > 500
    assert all(
        len(name) <= 500 and name.endswith("/result.png") and name.startswith("experiments/base/case/")
        for name in stored
    )
    assert first.name != second.name, "two names differing only in the middle stay apart"
    assert store.add_artifact_bytes(run.id, b"c", kind="log", name="short.log").name == "short.log"


def test_verdicts_round_trip(store: RunStore) -> None:
    run = store.create_run(_task())
    experiment = store.add_experiment(run.id, ExperimentSpec(key="k", task_id="cfd/test"))
    result = GateResult(gate="solver-log", decision="rerun", reasons=["diverged"], metrics={"courant_max": 12.5})
    added = store.add_verdict(run.id, experiment.id, result)
    store.add_verdict(run.id, None, GateResult(gate="write-up", decision="accept"))
    [verdict] = store.verdicts(run.id, experiment.id)
    assert verdict == added
    # The gate's own result comes back unchanged, with where it was recorded.
    assert GateResult.model_validate(verdict.model_dump(include=set(GateResult.model_fields))) == result
    assert (verdict.experiment, verdict.experiment_id) == ("k", experiment.id)
    on_run = [v for v in store.verdicts(run.id) if v.experiment_id is None]
    assert [(v.gate, v.experiment) for v in on_run] == [("write-up", "")]
    assert [event.kind for event in store.events(run.id)] == []  # announcing a verdict is the run's job, once


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


def _writer(home: str, url: str, run_id: str, worker: int, count: int) -> None:
    store = RunStore(Path(home), url)
    for index in range(count):
        store.emit(run_id, "note", f"{worker}-{index}")
        store.add_experiment(run_id, ExperimentSpec(key=f"w{worker}-{index}", task_id="cfd/test"))
        store.add_llm_usage(run_id, tokens=1, cost=0.5)


def _run_writers(store: RunStore, run_id: str, workers: int, count: int) -> None:
    """`workers` processes, each making `count` rounds of writes to the run, all finished cleanly."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_writer, args=(str(store.home), store.database_url, run_id, worker, count))
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0


def test_concurrent_writers_lose_nothing(store: RunStore) -> None:
    run = store.create_run(_task())
    workers, count = 4, 25
    _run_writers(store, run.id, workers, count)
    assert len(store.events(run.id)) == workers * count
    assert len(store.experiments(run.id)) == workers * count
    loaded = store.get_run(run.id)
    assert loaded.llm_tokens == workers * count
    assert loaded.llm_cost == pytest.approx(0.5 * workers * count)


def test_cancelled_stays_cancelled(store: RunStore) -> None:
    run = store.create_run(_task())
    store.set_status(run.id, "running")
    assert store.set_status(run.id, "cancelled", "on request")
    assert not store.set_status(run.id, "finished")  # an executor finishing late must not undo it
    loaded = store.get_run(run.id)
    assert (loaded.status, loaded.reason) == ("cancelled", "on request")
    assert [event.data["status"] for event in store.events(run.id)] == ["running", "cancelled"]


def _claim_all(home: str, url: str, run_ids: list[str], name: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = RunStore(Path(home), url)
    won = [
        run_id for run_id in run_ids if store.update_run_if(run_id, status_in=["queued"], expect_worker="", worker=name)
    ]
    results.put((name, won))


def test_claims_are_exclusive_between_processes(store: RunStore) -> None:
    run_ids = [store.create_run(_task()).id for _ in range(30)]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=_claim_all, args=(str(store.home), store.database_url, run_ids, f"w{n}", results))
        for n in range(3)
    ]
    for process in processes:
        process.start()
    won = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    claimed = [run_id for _, batch in won for run_id in batch]
    assert sorted(claimed) == sorted(run_ids)  # each run claimed exactly once
    for name, batch in won:
        assert all(store.get_run(run_id).worker == name for run_id in batch)


def test_list_runs_sorts_counts_and_filters(store: RunStore) -> None:
    ids = [store.create_run(_task()).id for _ in range(5)]
    store.update_run(ids[2], accepted=7)
    store.update_run(ids[4], accepted=3)
    store.set_status(ids[1], "failed", "x")
    assert [run.id for run in store.list_runs(sort="-accepted", limit=2)] == [ids[2], ids[4]]
    assert [run.id for run in store.list_runs(sort="created")] == ids
    assert [run.id for run in store.list_runs(limit=2, offset=1)] == [ids[3], ids[2]]
    assert store.count_runs() == 5 and store.count_runs(status="failed") == 1
    assert store.count_runs(task_id="cfd/other") == 0
    with pytest.raises(ValueError, match="cannot sort runs by 'nope'"):
        store.list_runs(sort="nope")


def test_schema_is_migrated_to_head_and_matches_the_tables(store: RunStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlmodel import SQLModel

    from runs._schema import HEAD_REVISION, MIGRATIONS

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == HEAD_REVISION
        assert compare_metadata(context, SQLModel.metadata) == []
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migrations_build_the_schema_a_new_store_is_created_with(backend: str) -> None:
    """A new store is made from the models and stamped at head; replaying every migration on an empty
    database must build exactly that schema, or stores made either way would differ."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, inspect
    from sqlmodel import SQLModel

    from runs._schema import HEAD_REVISION, _alembic_config

    def shape(engine: Any) -> dict[str, Any]:
        found = inspect(engine)
        return {
            table: (
                # Sorted: a migration appends the columns it adds, which the models list in their own order.
                sorted(
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in found.get_columns(table)
                ),
                sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes(table)),
                found.get_pk_constraint(table)["constrained_columns"],
                sorted(str(f["referred_table"]) for f in found.get_foreign_keys(table)),
            )
            for table in sorted(found.get_table_names())
        }

    shapes, revisions = [], []
    for made in ("migrated", "created"):
        with database_url(backend) as given:
            home = Path(tempfile.mkdtemp())
            url = given or f"sqlite:///{home / 'labgate.db'}"
            engine = create_engine(url)
            if made == "migrated":
                with engine.begin() as connection:
                    command.upgrade(_alembic_config(connection), "head")
            else:
                RunStore(home, url).engine.dispose()
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert compare_metadata(context, SQLModel.metadata) == [], made
                revisions.append(
                    (
                        context.get_current_revision(),
                        connection.exec_driver_sql("SELECT id, value FROM store_revision").all(),
                    )
                )
            shapes.append(shape(engine))
            engine.dispose()
    assert shapes[0] == shapes[1]
    assert revisions[0] == revisions[1] == (HEAD_REVISION, [(1, 0)])


def test_a_store_made_before_migrations_is_adopted_with_its_data(home: Path) -> None:
    from sqlmodel import SQLModel, create_engine

    from runs._schema import HEAD_REVISION

    engine = create_engine(f"sqlite:///{home / 'labgate.db'}")
    SQLModel.metadata.create_all(engine)  # what stores were before Alembic
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO run (id, task_id, workload, status, reason, spec, options, environment, seed, accepted, "
            "rejected, llm_tokens, llm_cost, worker, created_at, updated_at) VALUES ('old', 'cfd/test', 'cfd', "
            "'finished', '', '{}', '{}', '{}', 0, 1, 0, 0, 0.0, '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    engine.dispose()
    store = RunStore(home)
    assert store.get_run("old").accepted == 1
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD_REVISION
    store.engine.dispose()


def _store_at_0001_with_a_verdict(home: Path) -> None:
    """`_store_at_first_revision`, and a verdict of its finished experiment (which rows point at)."""
    from sqlalchemy import create_engine

    engine = create_engine(_store_at_first_revision(home, None))
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO verdict (run_id, experiment_id, gate, decision, reasons, evidence, metrics, confidence, "
            "created_at) SELECT 'old', id, 'deliverables', 'accept', '[]', '[]', '{}', 1.0, '2026-01-01 00:00:00' "
            "FROM experiment WHERE key = 'done'"
        )
    engine.dispose()


def test_an_old_store_with_verdicts_is_migrated_with_them(home: Path) -> None:
    """Migration 0002 rebuilds `experiment`; with foreign keys enforced, dropping the old table failed once
    a verdict pointed at it, and the copy the driver had made outside any transaction was left behind: the
    first open said "FOREIGN KEY constraint failed", every later one "table _alembic_tmp_experiment already
    exists", and no command could open the store again."""
    from runs._schema import HEAD_REVISION

    _store_at_0001_with_a_verdict(home)
    store = RunStore(home)
    assert sorted(experiment.key for experiment in store.experiments("old")) == ["done", "pending"]
    assert [v.gate for v in store.verdicts("old")] == ["deliverables"]
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD_REVISION
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        names = {row[0] for row in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not any(name.startswith("_alembic_tmp_") for name in names)
    store.engine.dispose()


def test_a_copy_an_interrupted_migration_left_is_put_right(home: Path) -> None:
    """A store an earlier labgate left at 0001 beside `_alembic_tmp_experiment` opens, its rows kept."""
    _store_at_0001_with_a_verdict(home)
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{home / 'labgate.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE _alembic_tmp_experiment (id INTEGER PRIMARY KEY, key TEXT)")
    engine.dispose()
    store = RunStore(home)
    assert sorted(e.key for e in store.experiments("old")) == ["done", "pending"]
    store.engine.dispose()


def _open_store(home: str, url: str | None) -> None:
    RunStore(Path(home), url).engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_opening_a_fresh_store_at_once_all_succeed(backend: str, home: Path) -> None:
    with database_url(backend) as url:
        context = multiprocessing.get_context("spawn")
        processes = [context.Process(target=_open_store, args=(str(home), url)) for _ in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=120)
            assert process.exitcode == 0
        store = RunStore(home, url)
        assert store.list_runs() == []
        store.engine.dispose()


def _store_at_first_revision(home: Path, url: str | None) -> str:
    """A database at revision 0001 with one finished experiment recorded as stores did then; returns its URL."""
    from alembic import command
    from sqlalchemy import create_engine

    from runs._schema import _alembic_config

    url = url or f"sqlite:///{home / 'labgate.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
        connection.exec_driver_sql(
            "INSERT INTO run (id, task_id, workload, status, reason, spec, options, environment, seed, accepted, "
            "rejected, llm_tokens, llm_cost, worker, created_at, updated_at) VALUES ('old', 'cfd/test', 'cfd', "
            "'running', '', '{}', '{}', '{}', 0, 0, 0, 0, 0.0, '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        for key, outcome in OLD_OUTCOMES.items():
            connection.exec_driver_sql(
                "INSERT INTO experiment (run_id, key, attempt, rationale, params, status, metrics, error, outcome, "
                f"workdir) VALUES ('old', '{key}', 1, '', '{{}}', 'completed', '{{}}', '', '{json.dumps(outcome)}', '')"
            )
    engine.dispose()
    return url


OLD_RESULT = b"x y\n1 2\n"
OLD_DIGEST = hashlib.sha256(OLD_RESULT).hexdigest()
"""The digest an experiment recorded before the upgrade, of bytes the artifact store of that time did not keep."""
OLD_OUTCOMES = {
    "done": {
        "key": "done",
        "status": "completed",
        "files": [{"path": "result.txt", "kind": "data", "role": "result"}],
        "evidence": {"result.txt": OLD_DIGEST},
    },
    "pending": {},
}
"""Outcomes as stores wrote them before revision 0002: the evidence map packed into the outcome."""


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_moves_evidence_out_of_the_outcome(backend: str, home: Path) -> None:
    with database_url(backend) as url:
        store = RunStore(home, _store_at_first_revision(home, url))
        done, pending = store.find_experiment("old", "done"), store.find_experiment("old", "pending")
        assert done is not None and pending is not None
        assert done.evidence == {"result.txt": OLD_DIGEST}
        assert done.outcome == {k: v for k, v in OLD_OUTCOMES["done"].items() if k != "evidence"}
        assert (pending.evidence, pending.outcome) == ({}, {})
        store.engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_experiment_recorded_before_the_upgrade_is_judged_with_its_evidence(backend: str, home: Path) -> None:
    from agents import RunContext
    from agents._experiments import judge_experiment
    from tools.cfd import CfdWorkload

    with database_url(backend) as url:
        store = RunStore(home, _store_at_first_revision(home, url))
        task = TaskSpec(id="cfd/test", workload="cfd", params={"case": "cavity"}, gates=["deliverables"])
        context = RunContext(store=store, run_id="old", task=task, workload=CfdWorkload(), sandbox_factory=_no_sandbox)
        (context.experiment_dir("done") / "result.txt").write_bytes(OLD_RESULT)
        row = store.find_experiment("old", "done")
        assert row is not None and row.id is not None
        decision, results = judge_experiment(context, ExperimentSpec(key="done", task_id=task.id), row.id)
        assert decision == "accept", results
        assert [result.evidence for result in results] == [[OLD_DIGEST]]  # the digest stored before the upgrade
        assert store.artifacts.open_path(OLD_DIGEST).read_bytes() == OLD_RESULT  # kept now, for the report
        verdict_events = [event for event in store.events("old") if event.kind == "verdict"]
        assert [(e.data["gate"], e.data["decision"], e.data["key"]) for e in verdict_events] == [
            ("deliverables", "accept", "done")
        ]
        store.engine.dispose()


def _no_sandbox(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    raise AssertionError("judging a stored outcome runs nothing")


# -- the store revision ---------------------------------------------------------------------------


def test_every_committed_write_advances_the_revision_and_reads_do_not(store: RunStore) -> None:
    seen = [store.revision()]

    def advanced() -> bool:
        seen.append(store.revision())
        return seen[-1] > seen[-2]

    run = store.create_run(_task())
    assert advanced()
    store.get_run(run.id)
    store.list_runs()
    store.events(run.id)
    assert not advanced()
    store.update_run(run.id, notes="a note")
    assert advanced()
    experiment = store.add_experiment(run.id, ExperimentSpec(key="e1", task_id="cfd/test"))
    assert advanced()
    assert experiment.id is not None
    store.update_experiment(experiment.id, decision="accept")
    assert advanced()
    store.add_verdict(run.id, experiment.id, GateResult(gate="g", decision="accept"))
    assert advanced()
    store.emit(run.id, "note", "something happened")
    assert advanced()
    store.set_status(run.id, "finished")
    assert advanced()


def test_a_write_rolled_back_leaves_the_revision(store: RunStore) -> None:
    run = store.create_run(_task())
    before = store.revision()
    with pytest.raises(RuntimeError), store.engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE run SET notes = 'never' WHERE id = '{run.id}'")
        raise RuntimeError("abandon the transaction")
    assert store.get_run(run.id).notes == ""
    assert store.revision() == before
    store.update_run(run.id, notes="kept")  # the connection that rolled back still counts its next write
    assert store.revision() == before + 1


@pytest.mark.slow  # processes started with spawn: over 10 s on a loaded machine
def test_concurrent_writers_lose_no_revision(store: RunStore) -> None:
    run = store.create_run(_task())
    start = store.revision()
    _writer(str(store.home), store.database_url, run.id, 99, 1)
    per_round = store.revision() - start
    assert per_round >= 3  # an event, an experiment and the usage: three committed writes at least
    workers, count = 4, 10
    _run_writers(store, run.id, workers, count)
    assert store.revision() == start + per_round * (1 + workers * count)


def test_stores_from_before_the_revision_get_one(home: Path) -> None:
    from sqlmodel import SQLModel, create_engine

    engine = create_engine(f"sqlite:///{home / 'labgate.db'}")
    SQLModel.metadata.create_all(engine)  # an empty store_revision table, as `create_all` made it
    engine.dispose()
    store = RunStore(home)
    assert store.revision() == 0
    store.create_run(_task())
    assert store.revision() == 1
    store.engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_store_upgraded_from_the_first_revision_counts_writes(backend: str, home: Path) -> None:
    with database_url(backend) as url:
        store = RunStore(home, _store_at_first_revision(home, url))
        before = store.revision()
        store.update_run("old", notes="upgraded")
        assert store.revision() == before + 1
        store.engine.dispose()


def _open_store_at(home: str, start_at: float) -> str:
    """Open (and so create and migrate) the store at `home` once the clock reaches `start_at`; the error it
    gave, or "" (runs in a child process)."""
    import time

    time.sleep(max(0.0, start_at - time.time()))
    try:
        RunStore(Path(home)).engine.dispose()
    except StoreUnavailableError as error:
        return str(error)
    return ""


@pytest.mark.slow
def test_two_processes_creating_one_new_store_at_once_both_open_it(tmp_path: Path) -> None:
    """Two `agent run`s on a new home: the second's first connection met the first's migration mid-way and
    SQLite answered "database is locked" at once (about one pair in fifteen on this machine)."""
    import time

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.starmap(_open_store_at, [(str(tmp_path / "warm"), 0.0)] * 2, 1)  # both children have imported labgate
        start = time.time() + 0.5
        pairs = [(str(tmp_path / f"home{i}"), start + 0.12 * i) for i in range(80)]
        answers = pool.starmap(_open_store_at, [p for pair in pairs for p in (pair, pair)], 1)
    errors = [answer for answer in answers if answer]
    assert errors == []


def test_a_home_the_store_makes_is_its_owners_alone_and_a_users_folder_keeps_its_mode(tmp_path: Path) -> None:
    """Runs hold documents, proposers' code and results: a home labgate makes is readable by its owner
    only, whatever the umask lets through; a folder the user made and chose a mode for keeps it."""
    previous = os.umask(0o022)
    try:
        made = tmp_path / "new" / "home"
        RunStore(made)
        chosen = tmp_path / "shared-home"
        chosen.mkdir(mode=0o755)
        RunStore(chosen)
    finally:
        os.umask(previous)
    assert made.stat().st_mode & 0o777 == 0o700
    assert chosen.stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("how", ["group-writable", "world-writable", "another account's"])
def test_a_home_others_could_write_is_refused_naming_why(tmp_path: Path, how: str) -> None:
    """A home holds what labgate runs as its user (the checkpoints `agent approve` loads, the proof memory,
    artifacts judged again): a `labgate-data` another account made, or one it can write, was used as it was."""
    home = tmp_path / "labgate-data"
    home.mkdir(mode=0o700)
    if how == "another account's":
        if os.geteuid() != 0:
            pytest.skip("giving a folder to another account needs root")
        os.chown(home, 65534, 65534)
        expected = "another account"
    else:
        home.chmod(0o770 if how == "group-writable" else 0o777)
        expected = "others may write to it"
    with pytest.raises(StoreUnavailableError, match=expected):
        RunStore(home)
    assert list(home.iterdir()) == []  # nothing was made in it
