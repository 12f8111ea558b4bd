"""Artifacts whose stored bytes were lost or changed: never served, judged or reported as the recorded ones.

Gates read an experiment's folder and cite the digests recorded when it finished; the dashboard and the
report read the artifact store by digest. Each test damages one of them the way a crash, another program or
a person tidying the disk would, and asserts that what labgate shows is still the recorded bytes or nothing.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from fastapi.testclient import TestClient

from agents import RunContext
from agents._experiments import (
    RunAbortedError,
    finish_experiment,
    prepare_experiment,
    restore_recorded_outputs,
)
from agents._writer import write_report
from api._app import create_app
from api._settings import Settings, build_catalog
from runs import DamagedArtifactError, ExperimentSpec, GateResult, RunStore, TaskSpec
from runs._artifacts import VERIFIED_FILES_KEPT, ArtifactStore
from tools import ExperimentOutcome, OutputFile, SandboxFactory, Workload
from tools.proofs import ProofsWorkload

TASK = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})
RESULT = b"rmse 0.31 REJECTED\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rewrite_in_place(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(data)


# -- the artifact store ---------------------------------------------------------------------------------------


def test_a_stored_file_rewritten_with_its_size_kept_is_refused(tmp_path: Path) -> None:
    """Only the size was compared: bytes of the same length put under a digest were served as its content."""
    artifacts = ArtifactStore(tmp_path / "artifacts")
    sha, size = artifacts.put_bytes(RESULT)
    path = artifacts.open_path(sha, size)
    _rewrite_in_place(path, RESULT.replace(b"REJECTED", b"ACCEPTED"))
    with pytest.raises(DamagedArtifactError, match="its bytes are not the digest's"):
        artifacts.open_path(sha, size)
    with pytest.raises(DamagedArtifactError):
        ArtifactStore(tmp_path / "artifacts").open_path(sha)  # a new store object reads it afresh
    artifacts.put_bytes(RESULT)  # the same bytes stored again repair it
    assert artifacts.open_path(sha, size).read_bytes() == RESULT


def test_an_unchanged_file_is_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    artifacts = ArtifactStore(tmp_path / "artifacts")
    sha, _ = artifacts.put_bytes(RESULT)
    fresh = ArtifactStore(tmp_path / "artifacts")
    hashed: list[bytes] = []
    real_sha256 = hashlib.sha256

    def counting(*args: bytes) -> object:
        hashed.append(b"".join(args))
        return real_sha256(*args)

    monkeypatch.setattr(hashlib, "sha256", counting)
    for _ in range(3):
        fresh.open_path(sha)
    assert len(hashed) == 1
    assert VERIFIED_FILES_KEPT >= 1000


def test_the_api_refuses_a_stored_file_changed_in_place(home: Path) -> None:
    app = create_app(Settings(home=home))
    with TestClient(app) as client:
        store: RunStore = app.state.labgate.store
        run = store.create_run(TASK)
        artifact = store.add_artifact_bytes(run.id, RESULT, kind="log", name="re=100/log.icoFoam")
        assert client.get(f"/artifacts/{artifact.sha256}").content == RESULT
        _rewrite_in_place(store.artifacts.path_for(artifact.sha256), RESULT.replace(b"REJECTED", b"ACCEPTED"))
        served = client.get(f"/artifacts/{artifact.sha256}")
        assert served.status_code == 503, served.text
        assert "damaged" in served.json()["detail"] and b"ACCEPTED" not in served.content
        store.engine.dispose()


# -- resumed experiments ---------------------------------------------------------------------------------------


class _Workload:
    name = "cfd"


@pytest.fixture
def finished(home: Path) -> Iterator[tuple[RunContext, Path]]:
    """An experiment that finished with one recorded output, `case/result.csv`, not yet judged."""
    store = RunStore(home)
    run = store.create_run(TASK)
    context = RunContext(
        store=store,
        run_id=run.id,
        task=TASK,
        workload=cast(Workload, _Workload()),
        sandbox_factory=cast(SandboxFactory, None),
    )
    spec = ExperimentSpec(key="re=100", task_id=TASK.id, params={"re": 100})
    prepared = prepare_experiment(context, spec)
    assert prepared is not None
    (prepared.directory / "case").mkdir()
    (prepared.directory / "case" / "result.csv").write_bytes(RESULT)
    files = [OutputFile(path="case/result.csv", kind="log", role="result")]
    finish_experiment(context, prepared, ExperimentOutcome(key=spec.key, status="completed", files=files))
    yield context, prepared.directory
    store.engine.dispose()


def test_a_store_that_lost_an_output_gets_it_back_from_the_intact_folder(finished: tuple[RunContext, Path]) -> None:
    """A deleted `artifacts/` folder, then a resume: the gates judged the folder and the report later failed
    on the missing artifact, the run ending failed and not resumable."""
    context, directory = finished
    shutil.rmtree(context.store.home / "artifacts" / _sha(RESULT)[:2])
    assert restore_recorded_outputs(context, directory, {"case/result.csv": _sha(RESULT)}) == []
    assert context.store.artifacts.open_path(_sha(RESULT)).read_bytes() == RESULT


@pytest.mark.parametrize("damage", ["removed", "edited"])
def test_an_output_gone_from_both_the_store_and_the_folder_stops_the_run(
    finished: tuple[RunContext, Path], damage: str
) -> None:
    """With no copy of the recorded bytes anywhere, the old code judged whatever the folder held (or nothing)
    under the recorded digest."""
    context, directory = finished
    shutil.rmtree(context.store.home / "artifacts" / _sha(RESULT)[:2])
    result = directory / "case" / "result.csv"
    if damage == "removed":
        result.unlink()
    else:
        result.write_bytes(RESULT.replace(b"REJECTED", b"ACCEPTED"))
    with pytest.raises(RunAbortedError, match=r"case/result\.csv changed or was removed after it was recorded"):
        restore_recorded_outputs(context, directory, {"case/result.csv": _sha(RESULT)})


# -- the report -------------------------------------------------------------------------------------------------

PROOF = b"Theorem t : 1 + 1 = 2.\nProof.\n  reflexivity.\nQed.\n"


@pytest.fixture
def accepted_proof(home: Path) -> Iterator[tuple[RunContext, Path]]:
    """A run with one accepted experiment whose proof is an artifact, kept in its folder too."""
    store = RunStore(home)
    catalog = build_catalog(Settings(home=home))
    task = catalog.get("cfd/cavity")
    run = store.create_run(task)
    row = store.add_experiment(run.id, ExperimentSpec(key="re=100", task_id=task.id, params={"re": 100}))
    assert row.id is not None
    context = RunContext(
        store=store,
        run_id=run.id,
        task=task,
        workload=ProofsWorkload(),
        sandbox_factory=cast(SandboxFactory, None),
    )
    folder = context.experiment_dir("re=100")
    (folder / "proof.v").write_bytes(PROOF)
    proof = store.add_artifact(run.id, folder / "proof.v", kind="proof", name="re=100/proof.v", experiment_id=row.id)
    store.add_verdict(run.id, row.id, GateResult(gate="proof", decision="accept", reasons=["checked"]))
    store.update_experiment(row.id, decision="accept", status="completed", evidence={"proof.v": proof.sha256})
    yield context, folder
    store.engine.dispose()


def test_a_report_written_twice_is_recorded_once(accepted_proof: tuple[RunContext, Path]) -> None:
    """A write-up cut short after it recorded its files, run again on resume, listed every report file twice."""
    context, _ = accepted_proof
    write_report(context)
    write_report(context, notes=["written again after a resume"])
    store = context.store
    reports = [a for a in store.artifacts_of(context.run_id) if a.kind == "report"]
    assert sorted(a.name for a in reports) == ["report.html", "report.md"]
    markdown = next(a for a in reports if a.name == "report.md")
    assert store.get_run(context.run_id).report_sha256 == markdown.sha256
    assert b"written again after a resume" in store.artifacts.open_path(markdown.sha256).read_bytes()


def test_a_report_shows_a_lost_artifact_only_from_its_recorded_bytes(accepted_proof: tuple[RunContext, Path]) -> None:
    context, folder = accepted_proof
    digest = _sha(PROOF)
    context.store.artifacts.path_for(digest).unlink()
    assert "reflexivity" in write_report(context).read_text()  # put back from the experiment's folder
    assert context.store.artifacts.open_path(digest).read_bytes() == PROOF
    _rewrite_in_place(context.store.artifacts.path_for(digest), PROOF.replace(b"2.\n", b"3.\n"))
    (folder / "proof.v").write_bytes(b"Theorem t : 1 + 1 = 3.\nProof.\n  reflexivity.\nQed.\n")
    with pytest.raises(RunAbortedError, match=r"artifact re=100/proof\.v is lost: .*damaged"):
        write_report(context)
