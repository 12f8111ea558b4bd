"""Hostile attempts on state that outlives one experiment: experiment keys, resumed and rerun
directories, the compiled-model cache, the kernel ceilings cache and the proof memory.

Each test plays a hostile candidate, task file or earlier attempt against something cached, reused or
resumed, and asserts that a later experiment, gate or benchmark does not take it for its own.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from agents import RunContext
from agents._experiments import (
    RunAbortedError,
    finish_experiment,
    judge_experiment,
    prepare_experiment,
    rerun_into,
    restore_recorded_outputs,
)
from agents.proof_search._memory import ProofMemory
from agents.proof_search._script import ProofScript
from runs import ExperimentKeyError, ExperimentSpec, RunStore, TaskSpec
from tests.databases import BACKENDS, store_on
from tools import ExperimentOutcome, OutputFile, SandboxFactory, Workload, experiment_key
from tools.kernels._ceilings import Ceilings
from tools.kernels._client import Worker
from tools.proofs import load_split, problem_from_text

TASK = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, home: Path) -> Iterator[RunStore]:
    with store_on(request.param, home) as store:
        yield store


class WritingWorkload:
    """Stands in for a workload: each run writes one result file where it is told to run."""

    name = "cfd"

    def __init__(self) -> None:
        self.ran_in: list[Path] = []

    def run(self, task: TaskSpec, spec: ExperimentSpec, directory: Path, factory: SandboxFactory) -> ExperimentOutcome:
        self.ran_in.append(directory)
        (directory / "case").mkdir(parents=True, exist_ok=True)
        (directory / "case" / "result.csv").write_text(f"{spec.key}\n")
        return ExperimentOutcome(key=spec.key, status="completed")


def _context(store: RunStore, workload: object | None = None) -> RunContext:
    run = store.create_run(TASK)
    return RunContext(
        store=store,
        run_id=run.id,
        task=TASK,
        workload=cast(Workload, workload or WritingWorkload()),
        sandbox_factory=cast(SandboxFactory, None),
    )


def _finish(store: RunStore, experiment_id: int, decision: str) -> None:
    outcome = ExperimentOutcome(key="done", status="completed").model_dump(mode="json")
    store.update_experiment(experiment_id, status="completed", outcome=outcome, decision=decision)


# -- experiment keys ----------------------------------------------------------------------------


def test_a_key_two_parameter_sets_share_does_not_hand_one_the_others_verdict(store: RunStore) -> None:
    """Two parameter sets under one key (a proposer's own keys, or a readable key that lost information):
    the second experiment was skipped as "already finished" and shown with the first's accepted verdict.
    Now the second is refused, naming the conflict; the first stays idempotent."""
    first = {"re": 100.00001}
    second = {"re": 100.00002}
    context = _context(store)
    key = "re=100"
    prepared = prepare_experiment(context, ExperimentSpec(key=key, task_id=TASK.id, params=first))
    assert prepared is not None
    _finish(store, prepared.experiment_id, "accept")
    with pytest.raises(RunAbortedError, match="other parameters"):
        prepare_experiment(context, ExperimentSpec(key=key, task_id=TASK.id, params=second))
    # The same experiment again (a resumed dispatch) is still recognised and not run twice.
    assert prepare_experiment(context, ExperimentSpec(key=key, task_id=TASK.id, params=dict(first))) is None
    assert len(store.experiments(context.run_id)) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"re": 100.00001}, {"re": 100.00002}),
        ({"name": "a/b"}, {"name": "a-b"}),
        ({"name": "a b"}, {"name": "a?b"}),
        ({"x": "y" * 200 + "1"}, {"x": "y" * 200 + "2"}),
    ],
)
def test_readable_keys_of_different_experiments_differ(first: dict[str, object], second: dict[str, object]) -> None:
    """Where the readable key loses information (rounding, a replaced character, a cut), a digest keeps it."""
    assert experiment_key(first) != experiment_key(second)
    assert experiment_key({"re": 100.0}) == "re=100" and experiment_key({"cells": 64, "re": 400}) == "cells=64_re=400"


@pytest.mark.parametrize("key", ["../../escaped", "a/b", "_held-out", ".hidden", "..", "", "x" * 201, "tab\there"])
def test_a_key_that_is_not_a_directory_of_its_own_is_refused(store: RunStore, key: str) -> None:
    """The key names the experiment's directory, which its sandbox may write: `../..` put it outside
    the run, `_held-out` onto the folder where the held-out gate keeps the baseline runs it reuses."""
    context = _context(store)
    with pytest.raises(RunAbortedError, match="experiment key"):
        prepare_experiment(context, ExperimentSpec(key=key, task_id=TASK.id))
    with pytest.raises(ExperimentKeyError):
        store.add_experiment(context.run_id, ExperimentSpec(key=key, task_id=TASK.id))
    assert store.experiments(context.run_id) == []
    assert not (context.run_dir.parent / "escaped").exists()


# -- directories an earlier attempt or the candidate left ----------------------------------------


def test_a_gate_rerun_neither_follows_nor_reuses_what_the_candidate_left(store: RunStore, tmp_path: Path) -> None:
    """The mesh check reruns in `<experiment>/mesh-check`, inside the directory the candidate's
    sandbox wrote. A link planted there made the host write the refined case wherever it pointed; a
    planted result file stayed beside the rerun's own for the gate to read."""
    workload = WritingWorkload()
    context = _context(store, workload)
    outside = tmp_path / "outside"
    outside.mkdir()
    candidate = context.experiment_dir("candidate-001")
    (candidate / "mesh-check").symlink_to(outside, target_is_directory=True)
    planted = candidate / "held" / "case"
    planted.mkdir(parents=True)
    (planted / "quantities.json").write_text('{"reattachment": 6.0}')
    spec = ExperimentSpec(key="candidate-001-mesh", task_id=TASK.id)
    outcome = rerun_into(context, spec, candidate / "mesh-check")
    assert outcome.status == "completed"
    assert list(outside.iterdir()) == []  # nothing written through the link
    assert not (candidate / "mesh-check").is_symlink() and (candidate / "mesh-check" / "case" / "result.csv").is_file()
    rerun_into(context, spec, candidate / "held")
    assert sorted(p.name for p in (candidate / "held" / "case").iterdir()) == ["result.csv"]


def test_outputs_changed_after_they_were_recorded_are_judged_as_recorded(store: RunStore, tmp_path: Path) -> None:
    """Verdicts cite the digests recorded when the experiment finished, but the gates read its folder:
    a result rewritten in between (a process the candidate left running, an edit before `agent
    resume`), or its folder swapped for a link, was judged under the honest file's digest."""
    context = _context(store)
    spec = ExperimentSpec(key="re=100", task_id=TASK.id, params={"re": 100})
    prepared = prepare_experiment(context, spec)
    assert prepared is not None
    (prepared.directory / "case").mkdir()
    (prepared.directory / "case" / "result.csv").write_text("honest\n")
    files = [OutputFile(path="case/result.csv", kind="log", role="result")]
    finish_experiment(context, prepared, ExperimentOutcome(key=spec.key, status="completed", files=files))
    forged = tmp_path / "forged"
    forged.mkdir()
    (forged / "result.csv").write_text("forged\n")
    shutil.rmtree(prepared.directory / "case")
    (prepared.directory / "case").symlink_to(forged, target_is_directory=True)
    judge_experiment(context, spec, prepared.experiment_id)
    assert not (prepared.directory / "case").is_symlink()
    assert (prepared.directory / "case" / "result.csv").read_text() == "honest\n"
    assert (forged / "result.csv").read_text() == "forged\n"  # nothing written through the link
    [event] = [e for e in store.events(context.run_id) if e.kind == "refused"]
    assert "case/result.csv" in event.message
    # A file edited in place is put back too; an untouched one is left alone.
    (prepared.directory / "case" / "result.csv").write_text("edited\n")
    assert restore_recorded_outputs(context, prepared.directory, {"case/result.csv": _sha("honest\n")}) == [
        "case/result.csv"
    ]
    assert restore_recorded_outputs(context, prepared.directory, {"case/result.csv": _sha("honest\n")}) == []


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_stores_copy_is_restored_only_if_it_still_holds_the_recorded_bytes(store: RunStore) -> None:
    """The store's file is found by its digest's name: forged bytes of the same size put there, and into the
    experiment's folder, were restored and judged under the recorded digest."""
    context = _context(store)
    spec = ExperimentSpec(key="re=100", task_id=TASK.id, params={"re": 100})
    prepared = prepare_experiment(context, spec)
    assert prepared is not None
    (prepared.directory / "case").mkdir()
    (prepared.directory / "case" / "result.csv").write_text("REJECTED 0.91\n")
    files = [OutputFile(path="case/result.csv", kind="log", role="result")]
    finish_experiment(context, prepared, ExperimentOutcome(key=spec.key, status="completed", files=files))
    digest = _sha("REJECTED 0.91\n")
    stored = store.artifacts.path_for(digest)
    stored.chmod(0o644)
    stored.write_text("ACCEPTED 0.01\n")
    (prepared.directory / "case" / "result.csv").write_text("ACCEPTED 0.01\n")
    with pytest.raises(RunAbortedError, match="no longer holds the recorded bytes"):
        restore_recorded_outputs(context, prepared.directory, {"case/result.csv": digest})
    # Storing the honest bytes again replaces what was planted under their digest, though its size is right.
    store.artifacts.put_bytes(b"REJECTED 0.91\n")
    assert stored.read_text() == "REJECTED 0.91\n"


CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from agents import RunContext
    from agents._experiments import prepare_experiment
    from runs import ExperimentSpec, RunStore, TaskSpec

    home = Path(sys.argv[1])
    store = RunStore(home)
    task = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})
    run = store.create_run(task)
    context = RunContext(store=store, run_id=run.id, task=task, workload=None, sandbox_factory=None)
    spec = ExperimentSpec(key="re=100", task_id=task.id, params={"re": 100})
    row = store.add_experiment(run.id, spec)
    store.update_experiment(row.id, status="running")  # killed mid-experiment
    # What the killed attempt's sandbox left, with the write bit taken off its folders.
    left = context.experiment_dir(spec.key) / "case" / "postProcessing"
    left.mkdir(parents=True)
    (left / "forces.dat").write_text("forged")
    os.chmod(left, 0o555)
    os.chmod(left.parent, 0o555)
    try:
        prepared = prepare_experiment(context, spec)
        left = sorted(str(p.relative_to(prepared.directory)) for p in prepared.directory.rglob("*"))
        print(json.dumps({"left": left}))
    except Exception as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
    """
)


def test_a_resumed_experiment_starts_empty_even_from_folders_made_read_only() -> None:
    """A killed experiment restarts from an empty directory; its sandbox (same user) could `chmod 0555`
    its folders, and the removal, errors ignored, left a forged result for the next attempt's gates.

    The store runs as an ordinary user here (root's removal ignores permissions)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot drop to an ordinary user")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    # Beside the test's own folder, which an ordinary user may not enter.
    with tempfile.TemporaryDirectory(prefix="labgate-state-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        if prefix:
            os.chmod(scratch, 0o755)
            os.chown(home, 65534, 65534)  # the ordinary user's own home: one others may write is refused
        command = [*prefix, sys.executable, "-c", CHILD, str(home), str(Path(__file__).resolve().parent.parent)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=scratch)
    assert result.returncode == 0, result.stderr[-2000:]
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply == {"left": []}, reply


# -- the compiled turbulence-model cache --------------------------------------------------------


@pytest.fixture
def headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "headers"
    root.mkdir()
    (root / ".complete").touch()
    monkeypatch.setenv("LABGATE_OPENFOAM_HEADERS", str(root))
    return root


def _fake_compiler(folder: Path, version: str) -> None:
    compiler = folder / "g++"
    compiler.write_text(f"#!/bin/sh\necho 'g++ (Debian {version}) {version}'\n")
    compiler.chmod(0o755)


def test_a_cached_model_is_keyed_by_the_compiler_that_built_it(
    headers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library built by another g++ (or against other headers) was loaded after an upgrade: another
    ABI, a crash or another model in the solver, charged to the candidate."""
    from tools.cfd.models import _build

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The compiler the sandbox runs is the one on its own PATH (`COMPILE_PATH`), which the key must name.
    monkeypatch.setattr(_build, "COMPILE_PATH", f"{bin_dir}:{_build.COMPILE_PATH}")
    _fake_compiler(bin_dir, "12.2.0-14")
    before = _build.source_digest("// model", headers)
    assert _build.source_digest("// model", headers) == before  # stable while nothing changes
    _fake_compiler(bin_dir, "13.1.0-1")
    after_compiler = _build.source_digest("// model", headers)
    assert after_compiler != before
    (headers / ".complete").write_text("fetched again")
    assert _build.source_digest("// model", headers) != after_compiler


def test_a_link_or_foreign_file_in_the_model_cache_is_not_loaded(
    headers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache entry is copied into every case that names the model, and its static initializers
    run in the solver: an entry that is a link (to another candidate's build, to anything) or a shared
    hard link is not what a build leaves, and is built again instead of trusted."""
    from tools.cfd.models import _build

    cache = tmp_path / "cache"
    digest = _build.source_digest("// model", headers)
    library = cache / digest[:2] / f"libmodel-{digest}.so"
    library.parent.mkdir(parents=True)
    elsewhere = tmp_path / "other-candidate.so"
    elsewhere.write_bytes(b"\x7fELF another candidate's model")

    def compiled(**_kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(_build, "LocalSandbox", compiled)
    for plant in (library.symlink_to, library.hardlink_to):
        plant(elsewhere)
        with pytest.raises(AssertionError, match="compiled again"):
            _build.build_model("// model", cache=cache)
        assert not library.exists() and elsewhere.is_file()
    library.write_bytes(b"#!/bin/sh\nnot a library\n")
    with pytest.raises(AssertionError, match="compiled again"):
        _build.build_model("// model", cache=cache)
    library.write_bytes(b"\x7fELF built here")
    assert _build.build_model("// model", cache=cache).cached


# -- the kernel ceilings cache -------------------------------------------------------------------


class ProbeWorker:
    """Answers the ceiling probes as the sandboxed worker would, counting them."""

    def __init__(self, fma: Any = 100.0, triad: Any = 20.0) -> None:
        self.fma, self.triad = fma, triad
        self.requests: list[str] = []

    def ensure(self) -> dict[str, Any]:
        return {"key": "test-device", "name": "test"}

    def request(self, request: dict[str, Any], arrays: dict[str, Any], timeout: float) -> tuple[dict[str, Any], Any]:
        self.requests.append(request["op"])
        if request["op"] == "fma":
            return {"ok": True, "gflops": self.fma}, {}
        return {"ok": True, "gbps": self.triad, "update_gbps": 30.0, "triad_width": 4, "update_width": 4}, {}


@pytest.mark.parametrize("bad", [0.0, -5.0, "fast", None, [1], 1e400, True])
def test_a_damaged_ceilings_cache_is_measured_again_not_divided_by(tmp_path: Path, bad: Any) -> None:
    """Every later run's fractions divide by the cached ceilings: zero, a negative, NaN or a string
    there crashed the harness or gave every kernel an absurd fitness until the file was removed."""
    size = str(1 << 20)
    (tmp_path / "ceilings-v2.json").write_text(
        json.dumps(
            {
                "test-device": {
                    "device": {},
                    "fma_gflops": bad,
                    "triad_gbps": {size: bad},
                    "update_gbps": {size: 30.0},
                }
            }
        )
    )
    worker = ProbeWorker()
    ceilings = Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])
    assert ceilings["fma_gflops"] == 100.0 and ceilings["triad_gbps"] == {1 << 20: 20.0}
    assert worker.requests == ["fma", "triad"]
    stored = json.loads((tmp_path / "ceilings-v2.json").read_text())["test-device"]
    assert stored["fma_gflops"] == 100.0 and stored["triad_gbps"] == {size: 20.0}


@pytest.mark.parametrize("answer", [0.0, math.nan, math.inf, -1.0, "20"])
def test_a_probe_answer_that_is_no_rate_is_never_cached(tmp_path: Path, answer: Any) -> None:
    worker = ProbeWorker(triad=answer)
    with pytest.raises(RuntimeError, match="not a finite positive rate"):
        Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])
    assert not (tmp_path / "ceilings-v2.json").exists()


# -- the proof memory ---------------------------------------------------------------------------


def test_a_test_problem_posed_as_a_user_task_is_remembered_under_test(tmp_path: Path) -> None:
    """The memory's split came from the problem id, which a task with its own statement chooses: a
    miniF2F test theorem posed as `proofs/my-task` (or under a `minif2f-valid/` id) was stored as
    `user` (or `valid`), which a benchmark evaluating test reads, recalling the very proof it grades."""
    real = load_split("test")[5]
    memory = ProofMemory(tmp_path / "memory")
    renamed = real.statement.replace(real.name, "my_own_theorem", 1)
    for problem_id in ("proofs/my-task", "proofs/minif2f-valid/my_own_theorem"):
        posed = problem_from_text(problem_id, f"{real.header}\n{renamed}\n")
        assert posed.parsed.goal() == real.parsed.goal()
        memory.record(posed, ProofScript(("intros.", "nia."), origin="accepted"))
    assert {entry.split for entry in memory.entries()} == {"test"}
    # A statement of one's own stays the user's.
    own = problem_from_text("proofs/my-task", "Require Import Arith.\n\nTheorem t : forall n : nat, n + 0 = n.\n")
    memory.record(own, ProofScript(("lia.",), origin="accepted"))
    assert sorted(entry.split for entry in memory.entries()) == ["test", "test", "user"]


def test_a_memory_row_this_code_did_not_write_is_skipped(tmp_path: Path) -> None:
    """The memory file is shared by every run; a row whose JSON is not the memory's made every later
    recall raise (a traceback in each proof experiment) instead of being ignored."""
    import sqlite3

    memory = ProofMemory(tmp_path / "memory")
    own = problem_from_text("proofs/my-task", "Require Import Arith.\n\nTheorem t : forall n : nat, n + 0 = n.\n")
    memory.record(own, ProofScript(("lia.",), origin="accepted"))
    with sqlite3.connect(memory.path) as connection:
        connection.execute(
            "INSERT INTO proofs (problem_id, split, statement, features, script, hypotheses, recorded_at) "
            "VALUES ('x', 'user', 's', 'not json', '{\"a\": 1}', '[]', 0)"
        )
    assert [entry.problem_id for entry in memory.entries()] == ["proofs/my-task"]
    assert stat.S_ISREG(memory.path.stat().st_mode)


def test_resuming_under_other_tools_than_the_run_started_with_is_refused() -> None:
    from agents._experiments import RunAbortedError
    from agents._runner import refuse_changed_tools

    refuse_changed_tools({"openfoam": "1912"}, {"openfoam": "1912"})
    refuse_changed_tools({}, {"openfoam": "2012"})  # never started: nothing ran under other versions
    with pytest.raises(RunAbortedError, match=r"openfoam: '1912' then, '2012' now"):
        refuse_changed_tools({"openfoam": "1912"}, {"openfoam": "2012"})
    with pytest.raises(RunAbortedError, match=r"image: .* then, 'absent' now"):
        refuse_changed_tools({"image": "labgate/openfoam:abc"}, {"openfoam": "1912"})


@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_paused_run_whose_solver_changed_is_not_continued_under_the_new_one(home: Path) -> None:
    """A run planned (and approved later) under one OpenFOAM must not finish its experiments under another."""
    from tests.conftest import agent

    result = agent(
        "run", "cfd/cavity", "--param", "re=100", "--param", "cells=16", "--approve-plan", "--json", home=home
    )
    paused = json.loads(result.stdout)
    assert paused["status"] == "paused", result.stderr
    store = RunStore(home)
    run = store.get_run(paused["run_id"])
    assert run.environment["tools"].get("openfoam"), run.environment
    store.update_run(run.id, environment={**run.environment, "tools": {"openfoam": "1.0 (another build)"}})

    approved = agent("approve", run.id, "--json", home=home)
    summary = json.loads(approved.stdout)
    assert summary["status"] == "failed", summary
    assert "tools changed since the run started" in summary["reason"]
    assert store.experiments(run.id) == []  # nothing ran under the new solver


# -- checkpoints -----------------------------------------------------------------------------------------


def test_a_checkpoint_row_naming_a_function_never_calls_it(tmp_path: Path) -> None:
    """LangGraph's default serializer rebuilt any type a checkpoint row named by calling it: a row naming
    `os.system` ran a command, as root, on `agent approve`. The run's state is plain JSON; nothing is called."""
    import ormsgpack

    from agents._checkpoint import open_checkpointer

    marker = tmp_path / "ran"
    call = ormsgpack.Ext(0, ormsgpack.packb(["os", "system", f"touch {marker}"]))
    with open_checkpointer(tmp_path) as saver:
        loaded = saver.serde.loads_typed(("msgpack", ormsgpack.packb({"queue": [], "x": call})))
        assert saver.serde.loads_typed(saver.serde.dumps_typed({"queue": [{"key": "re=100"}]})) == {
            "queue": [{"key": "re=100"}]
        }
    assert not marker.exists()
    assert loaded["queue"] == [] and loaded["x"] != 0  # the named call comes back as data, never its result
