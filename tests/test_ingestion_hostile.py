"""Host-side ingestion fed what a hostile case leaves behind: links, FIFOs, devices, sparse and linked files.

Each hostile case is a real cavity run through the orchestrator's own experiment steps (prepare,
run the workload, record the outputs, judge with the task's gates); when the solver has finished,
the sandbox leaves something in place of an output, as a candidate that owns the case directory
can. The host must then finish in bounded time, name the refused file in a verdict, store no byte
of the host file, the store's database or the process environment, and serve none through the API.
An honest control goes through the same path and is accepted.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agents._context import RunContext
from agents._experiments import finish_experiment, judge_experiment, prepare_experiment, run_driver
from api._settings import Settings
from runs import (
    ArtifactNotFoundError,
    ArtifactStore,
    GateResult,
    RunStore,
    TaskSpec,
    UntrustedFileError,
    read_untrusted_path,
    untrusted_subdirectories,
)
from sandboxes import LocalSandbox, Sandbox
from tests.api_server import served_client
from tests.conftest import agent
from tests.pdfs import one_page_pdf, pdf_file
from tools import ExperimentOutcome
from tools.cfd import CfdWorkload, RefusedOutputError, latest_time

MARKER = b"LABGATE-HOSTILE-MARKER-5c1e"
PARAMS = {"case": "cavity", "re": 100, "cells": 24, "convective_times": 10}
SQLITE_HEADER = b"SQLite format 3\x00"

Plant = Callable[[Path, Path], None]
"""Leaves something in a finished case directory: (case, tmp) -> None, tmp being host-only space."""


class PlantingSandbox:
    """The real local sandbox; when it closes, the case it ran leaves `plant` behind for the host."""

    def __init__(self, inner: Sandbox, plant: Plant, host_dir: Path) -> None:
        self._inner, self._plant, self._host_dir = inner, plant, host_dir

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def close(self) -> None:
        self._inner.close()
        self._plant(self._inner.workdir, self._host_dir)


@dataclass
class Ingested:
    store: RunStore
    run_id: str
    decision: str
    results: list[GateResult]
    outcome: ExperimentOutcome
    seconds: float

    @property
    def reasons(self) -> str:
        return " | ".join(reason for result in self.results for reason in result.reasons)


def _cavity_task() -> TaskSpec:
    return next(task for task in CfdWorkload().tasks() if task.id == "cfd/cavity")


def ingest(home: Path, host_dir: Path, plant: Plant | None) -> Ingested:
    """One experiment through the orchestrator's own steps, the sandbox leaving `plant` behind."""
    store = RunStore(home)
    task = _cavity_task().model_copy(update={"params": PARAMS, "sweep": {}})
    run = store.create_run(task)

    def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        sandbox = LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))
        return sandbox if plant is None else PlantingSandbox(sandbox, plant, host_dir)  # type: ignore[return-value]

    context = RunContext(store=store, run_id=run.id, task=task, workload=CfdWorkload(), sandbox_factory=factory)
    experiment = CfdWorkload().plan(task)[0]
    prepared = prepare_experiment(context, experiment)
    assert prepared is not None
    start = time.monotonic()
    outcome = run_driver(context, experiment, prepared.directory)
    finish_experiment(context, prepared, outcome)
    decision, results = judge_experiment(context, experiment, prepared.experiment_id)
    seconds = time.monotonic() - start
    row = store.find_experiment(run.id, experiment.key)
    assert row is not None
    stored = ExperimentOutcome.model_validate({k: v for k, v in row.outcome.items() if k != "evidence"})
    return Ingested(store, run.id, decision, results, stored, seconds)


def stored_bytes(store: RunStore) -> list[bytes]:
    return [path.read_bytes() for path in store.artifacts.root.rglob("*") if path.is_file()]


def served_bytes(ingested: Ingested) -> dict[str, bytes]:
    """Every artifact of the run as the API serves it, by recorded name."""
    settings = Settings(home=ingested.store.home, run_workers=0)
    served: dict[str, bytes] = {}
    with served_client(settings) as client:
        for artifact in ingested.store.artifacts_of(ingested.run_id):
            response = client.get(f"/artifacts/{artifact.sha256}")
            assert response.status_code == 200, artifact.name
            served[artifact.name] = response.content
    return served


def host_secrets(home: Path) -> list[bytes]:
    """What must never reach the store: the marker, the database's own header, this process's environment."""
    environ = Path("/proc/self/environ").read_bytes().split(b"\0")
    longest = max((entry for entry in environ if b"=" in entry), key=len, default=b"")
    return [MARKER, SQLITE_HEADER, longest]


# -- what a hostile case leaves -------------------------------------------------------------------


def _secret_file(host_dir: Path) -> Path:
    secret = host_dir / "shadow"
    secret.write_bytes(b"root:" + MARKER + b":19000:0:99999:7:::\n")
    secret.chmod(0o600)
    return secret


def _replace(path: Path) -> Path:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    return path


def log_to_secret(case: Path, host_dir: Path) -> None:
    _replace(case / "log.icoFoam").symlink_to(_secret_file(host_dir))


def log_to_environ(case: Path, host_dir: Path) -> None:
    _replace(case / "log.icoFoam").symlink_to("/proc/self/environ")


def log_to_store_database(case: Path, host_dir: Path) -> None:
    # case -> <key> -> experiments -> <run> -> runs -> home/labgate.db
    _replace(case / "log.icoFoam").symlink_to("../../../../../labgate.db")


def log_to_kmsg(case: Path, host_dir: Path) -> None:
    _replace(case / "log.icoFoam").symlink_to("/proc/kmsg")


def log_as_fifo(case: Path, host_dir: Path) -> None:
    os.mkfifo(_replace(case / "log.icoFoam"))


def sparse_log(case: Path, host_dir: Path) -> None:
    with (case / "log.icoFoam").open("ab") as handle:
        handle.write(MARKER)
        handle.truncate(1 << 30)


def field_hard_link(case: Path, host_dir: Path) -> None:
    latest = latest_time(case)
    assert latest is not None
    os.link(_secret_file(host_dir), _replace(latest[1] / "U"))


def samples_directory_link(case: Path, host_dir: Path) -> None:
    sampled = case / "postProcessing" / "centrelines"
    newest = max(sampled.iterdir(), key=lambda child: float(child.name))
    forged = host_dir / "forged-samples"
    shutil.copytree(newest, forged)
    for table in forged.iterdir():
        table.write_bytes(b"# " + MARKER + b"\n" + table.read_bytes())
    _replace(newest).symlink_to(forged, target_is_directory=True)


def newest_time_link(case: Path, host_dir: Path) -> None:
    latest = latest_time(case)
    assert latest is not None
    forged = host_dir / "forged-time"
    shutil.copytree(latest[1], forged)
    for name in ("U", "p", "C"):
        (forged / name).write_bytes(b"// " + MARKER + b"\n" + (forged / name).read_bytes())
    (case / "1000").symlink_to(forged, target_is_directory=True)


HOSTILE: list[tuple[Plant, str]] = [
    (log_to_secret, "case/log.icoFoam"),
    (log_to_environ, "case/log.icoFoam"),
    (log_to_store_database, "case/log.icoFoam"),
    (log_to_kmsg, "case/log.icoFoam"),
    (log_as_fifo, "case/log.icoFoam"),
    (sparse_log, "case/log.icoFoam"),
    (field_hard_link, "/U"),
    (samples_directory_link, "case/postProcessing/centrelines/"),
    (newest_time_link, "case/1000"),
]


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    path = tmp_path / "host-only"
    path.mkdir(mode=0o700)
    return path


@pytest.mark.parametrize("plant,named", HOSTILE, ids=[plant.__name__ for plant, _ in HOSTILE])
@pytest.mark.usefixtures("openfoam", "bubblewrap")
@pytest.mark.slow
@pytest.mark.openfoam
def test_hostile_leftovers_are_refused_named_and_never_stored(
    plant: Plant, named: str, home: Path, host_dir: Path
) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ingested = ingest(home, host_dir, plant)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024

    assert ingested.seconds < 120, f"ingestion took {ingested.seconds:.0f} s"
    assert grown_mib < 512, f"the host grew by {grown_mib:.0f} MiB reading the case"
    assert ingested.decision != "accept", ingested.reasons
    assert named in ingested.reasons, ingested.reasons
    assert "refused" in ingested.reasons, ingested.reasons
    assert any(named in refusal for refusal in ingested.outcome.refused), ingested.outcome.refused

    secrets = host_secrets(home)
    for data in stored_bytes(ingested.store):
        assert not any(secret in data for secret in secrets)
    refused_paths = {refusal.split(": ", 1)[0] for refusal in ingested.outcome.refused}
    for name, data in served_bytes(ingested).items():
        assert not any(secret in data for secret in secrets), name
        assert name.split("/", 1)[1] not in refused_paths, name


@pytest.mark.usefixtures("openfoam", "bubblewrap")
@pytest.mark.slow
@pytest.mark.openfoam
def test_the_honest_case_through_the_same_path_is_accepted(home: Path, host_dir: Path) -> None:
    ingested = ingest(home, host_dir, None)
    gates = {result.gate: result for result in ingested.results}
    assert gates["solver-log"].decision == "accept", gates["solver-log"].reasons
    assert gates["deliverables"].decision == "accept", gates["deliverables"].reasons
    assert ingested.decision == "accept", ingested.reasons
    assert ingested.outcome.refused == []
    served = served_bytes(ingested)
    logs = [data for name, data in served.items() if name.endswith("case/log.icoFoam")]
    assert len(logs) == 1 and b"icoFoam" in logs[0] and logs[0].rstrip().endswith(b"End")


@pytest.mark.usefixtures("openfoam", "bubblewrap")
@pytest.mark.slow
@pytest.mark.openfoam
def test_check_case_copies_no_link_and_names_each(home: Path, host_dir: Path, tmp_path: Path) -> None:
    honest = ingest(home, host_dir, None)
    finished = next(honest.store.run_dir(honest.run_id).glob("experiments/*/case"))
    user_case = tmp_path / "user-case"
    shutil.copytree(finished, user_case)
    _replace(user_case / "log.icoFoam").symlink_to(_secret_file(host_dir))
    (user_case / "constant" / "extra").symlink_to(host_dir, target_is_directory=True)

    started = time.monotonic()
    result = agent("check-case", "cfd/cavity", str(user_case), "--json", home=home, timeout=300)
    assert time.monotonic() - started < 300
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["decision"] != "accept"
    refused = " | ".join(report["refused"])
    assert "case/log.icoFoam" in refused and "case/constant/extra" in refused, refused
    copy = Path(report["workdir"]) / "case"
    for path in copy.rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file():
            assert MARKER not in path.read_bytes(), path
    assert (user_case / "log.icoFoam").is_symlink(), "the user's case was changed"


# -- the primitives the paths above rest on (no solver needed) --------------------------------------


def test_a_link_anywhere_below_the_anchor_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "U").write_bytes(MARKER)
    case = tmp_path / "case"
    case.mkdir()
    (case / "1000").symlink_to(outside, target_is_directory=True)
    (case / "0.5").mkdir()
    (case / "0.5" / "U").write_bytes(b"honest")

    with pytest.raises(UntrustedFileError, match="1000"):
        read_untrusted_path(case / "1000" / "U", within=case)
    assert read_untrusted_path(case / "0.5" / "U", within=case) == b"honest"
    assert untrusted_subdirectories(case) == ["0.5"]
    # A link named like the newest time is refused by name, not skipped for an older time.
    with pytest.raises(RefusedOutputError, match="1000 was refused: is a symbolic link"):
        latest_time(case)
    (case / "1000").unlink()
    latest = latest_time(case)
    assert latest is not None and latest[0] == 0.5


def test_the_store_never_copies_a_link_and_serves_only_its_own_files(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    secret = tmp_path / "secret"
    secret.write_bytes(MARKER)
    link = tmp_path / "log.icoFoam"
    link.symlink_to(secret)
    with pytest.raises(UntrustedFileError, match="symbolic link"):
        store.put_file(link)
    sha, _ = store.put_bytes(b"stored by the store")
    planted = store.path_for("0" * 64)
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.symlink_to(secret)
    assert not store.has("0" * 64)
    assert store.has(sha)
    own = [path for path in store.root.rglob("*") if path.is_file() and not path.is_symlink()]
    assert own and not any(MARKER in path.read_bytes() for path in own)
    with pytest.raises(ArtifactNotFoundError):
        store.open_path("0" * 64)
    assert stat.S_ISREG(store.open_path(sha).lstat().st_mode)


def test_a_ray_worker_ships_back_regular_files_only(tmp_path: Path) -> None:
    from agents.executors._ray import _pack, _unpack

    secret = _secret_file(tmp_path)
    scratch = tmp_path / "scratch"
    (scratch / "case").mkdir(parents=True)
    (scratch / "case" / "log.icoFoam").write_bytes(b"honest log\nEnd\n")
    (scratch / "case" / "leak").symlink_to(secret)
    (scratch / "case" / "linked").symlink_to(tmp_path, target_is_directory=True)
    os.link(secret, scratch / "case" / "hard")
    os.mkfifo(scratch / "case" / "pipe")

    archive, refused = _pack(scratch)
    named = " | ".join(refused)
    for name in ("case/leak", "case/linked", "case/hard", "case/pipe"):
        assert name in named, named
    unpacked = tmp_path / "unpacked"
    _unpack(archive, unpacked)
    files = sorted(str(path.relative_to(unpacked)) for path in unpacked.rglob("*") if path.is_file())
    assert files == ["case/log.icoFoam"]
    assert MARKER not in gzip.decompress(archive)


@pytest.mark.usefixtures("openfoam", "bubblewrap")
@pytest.mark.slow
@pytest.mark.openfoam
def test_check_case_refuses_a_linked_dictionary_by_name(home: Path, host_dir: Path, tmp_path: Path) -> None:
    honest = ingest(home, host_dir, None)
    finished = next(honest.store.run_dir(honest.run_id).glob("experiments/*/case"))
    user_case = tmp_path / "user-case"
    shutil.copytree(finished, user_case)
    control = user_case / "system" / "controlDict"
    forged = host_dir / "controlDict"
    forged.write_bytes(b"// " + MARKER + b"\n" + control.read_bytes())
    _replace(control).symlink_to(forged)

    result = agent("check-case", "cfd/cavity", str(user_case), "--json", home=home, timeout=300)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "system/controlDict" in result.stderr and "symbolic link" in result.stderr, result.stderr
    assert MARKER.decode() not in result.stdout + result.stderr


# -- research documents (`agent plan --docs`) ------------------------------------------------------
# Passages go to the model and are quoted in the report, so a document folder (an unpacked archive of
# papers) is read like sandbox output: no link followed, regular files only, bounded sizes, and every
# malformed PDF a DocumentError naming the file.


def _link_to_secret(docs: Path, host_dir: Path) -> None:
    (docs / "notes.md").symlink_to(_secret_file(host_dir))


def _link_to_environ(docs: Path, host_dir: Path) -> None:
    (docs / "env.txt").symlink_to("/proc/self/environ")


def _link_in_a_subfolder(docs: Path, host_dir: Path) -> None:
    (docs / "papers").mkdir()
    (docs / "papers" / "cavity.md").symlink_to(_secret_file(host_dir))


def _fifo_document(docs: Path, host_dir: Path) -> None:
    os.mkfifo(docs / "pipe.md")


def _hard_link_to_secret(docs: Path, host_dir: Path) -> None:
    os.link(_secret_file(host_dir), docs / "shadow.md")


def _oversized_document(docs: Path, host_dir: Path) -> None:
    with (docs / "huge.md").open("wb") as handle:
        handle.truncate(40 << 20)  # sparse: 40 MiB declared, nothing written


def _pdf_flate_bomb(docs: Path, host_dir: Path) -> None:
    (docs / "bomb.pdf").write_bytes(one_page_pdf(b"BT (" + b"A" * (200 << 20) + b") Tj ET", flate=True))


def _pdf_huge_page_array(docs: Path, host_dir: Path) -> None:
    pages = b"<< /Type /Pages /Kids [" + b"3 0 R " * 200_000 + b"] /Count 200000 >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"
    (docs / "pages.pdf").write_bytes(pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", pages, page]))


def _pdf_garbage(docs: Path, host_dir: Path) -> None:
    (docs / "garbage.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)


HOSTILE_DOCUMENTS: dict[str, tuple[Plant, str]] = {
    "a link to a host file": (_link_to_secret, "notes.md"),
    "a link to the process environment": (_link_to_environ, "env.txt"),
    "a link in a subfolder": (_link_in_a_subfolder, "papers/cavity.md"),
    "a FIFO named like a document": (_fifo_document, "pipe.md"),
    "a hard link to a host file": (_hard_link_to_secret, "shadow.md"),
    "a sparse 40 MiB document": (_oversized_document, "huge.md"),
    "a PDF whose stream inflates to 200 MiB": (_pdf_flate_bomb, "bomb.pdf"),
    "a PDF with 200,000 page references": (_pdf_huge_page_array, "pages.pdf"),
    "a PDF of garbage": (_pdf_garbage, "garbage.pdf"),
}


@pytest.mark.parametrize(("plant", "named"), list(HOSTILE_DOCUMENTS.values()), ids=list(HOSTILE_DOCUMENTS))
def test_hostile_documents_are_refused_by_name(tmp_path: Path, host_dir: Path, plant: Plant, named: str) -> None:
    from agents.planner import DocumentError, load_documents

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "cavity-study.md").write_text("Validate the solver on the lid-driven cavity at Re 100.\n")
    plant(docs, host_dir)
    start = time.monotonic()
    with pytest.raises(DocumentError, match=named.replace(".", r"\.")):
        load_documents(docs)
    assert time.monotonic() - start < 20


def test_a_document_of_one_endless_line_is_read_in_linear_time(tmp_path: Path) -> None:
    from agents.planner import load_documents

    (tmp_path / "line.md").write_bytes(b"a" * (8 << 20))
    start = time.monotonic()
    passages = load_documents(tmp_path)
    assert time.monotonic() - start < 10  # cutting 8 MiB into passages once took minutes (quadratic)
    assert sum(len(p.text) for p in passages) == 8 << 20 and max(len(p.text) for p in passages) <= 1200


def test_an_honest_documents_folder_is_read_through_a_linked_root(tmp_path: Path) -> None:
    from agents.planner import load_documents

    docs = tmp_path / "docs"
    (docs / "papers").mkdir(parents=True)
    (docs / "cavity-study.md").write_text("Validate the solver on the lid-driven cavity at Re 100.\n")
    (docs / "papers" / "memo.pdf").write_bytes(one_page_pdf(b"BT /F1 12 Tf 72 720 Td (Reynolds 1000) Tj ET"))
    (docs / "papers" / "figure.png").symlink_to("/etc/hostname")  # not a document: neither read nor refused
    (tmp_path / "linked").symlink_to(docs)  # the folder the user names may itself be a link
    passages = load_documents(tmp_path / "linked")
    assert {p.id for p in passages} == {"cavity-study.md#1", "papers/memo.pdf#1"}
    assert "Reynolds 1000" in next(p.text for p in passages if p.source == "papers/memo.pdf")
