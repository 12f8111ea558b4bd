"""Running one experiment and judging it: the side effects of the dispatch and gate nodes.

Both steps are idempotent per experiment key: an experiment already recorded as finished is
not executed again, and its stored outcome is judged instead (what makes resume safe).
"""

from __future__ import annotations

import errno
import hashlib
import json
import re
import shutil
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents._context import RunContext
from agents._execution import Execution
from agents._policy import JudgedExperiment
from agents._proposer import proposer_for
from agents._vision import vision_judge_for
from runs import (
    MAX_ARTIFACT_BYTES,
    ArtifactNotFoundError,
    DamagedArtifactError,
    ExperimentKeyError,
    ExperimentSpec,
    GateResult,
    LabgateError,
    UntrustedFileError,
    UntrustedFileMissingError,
    is_store_error,
    read_untrusted,
    remove_untrusted_tree,
    store_failure,
    utcnow,
)
from sandboxes import SandboxUnavailableError
from tools import ExperimentOutcome, PluginError, ToolUnavailableError
from verifiers import build_gates, judge

if TYPE_CHECKING:
    from runs import Artifact
    from tools import OutputFile

STAGING_THREADS = 8
"""Output files stored side by side (`stage_outputs`)."""


def judged_history(context: RunContext) -> list[JudgedExperiment]:
    """Every experiment of the run that has a decision, oldest first, with its verdicts in gate order."""
    verdicts: dict[int, list[GateResult]] = {}
    for verdict in context.store.verdicts(context.run_id):
        if verdict.experiment_id is not None:
            verdicts.setdefault(verdict.experiment_id, []).append(verdict)
    history = []
    for row in context.store.experiments(context.run_id):
        if row.decision is None or row.id is None:
            continue
        spec = ExperimentSpec(
            key=row.key,
            task_id=context.task.id,
            params=row.params,
            attempt=row.attempt,
            parent_key=row.parent_key,
            rationale=row.rationale,
        )
        history.append(JudgedExperiment(spec=spec, decision=row.decision, verdicts=verdicts.get(row.id, [])))  # type: ignore[arg-type]
    return history


class RunAbortedError(LabgateError, RuntimeError):
    """A failure that no other experiment of the run could escape (tool or sandbox missing)."""


@dataclass(frozen=True)
class PreparedExperiment:
    """An experiment recorded as running, with the directory its outputs go to."""

    spec: ExperimentSpec
    experiment_id: int
    directory: Path


def prepare_experiment(context: RunContext, spec: ExperimentSpec) -> PreparedExperiment | None:
    """Record the experiment as running; None when it already finished (it is never executed twice).

    Raises:
        RunAbortedError: the key names another experiment (other parameters) or no directory of its
            own, or what an earlier attempt left in the directory cannot be removed.
    """
    store = context.store
    try:
        row = store.add_experiment(context.run_id, spec)
    except ExperimentKeyError as error:
        raise RunAbortedError(str(error)) from None
    assert row.id is not None
    if _canonical(row.params) != _canonical(spec.params):
        # A key that loses information (a value rounded, a character replaced) names two experiments:
        # skipping this one as "finished" would hand it the other's outcome and verdicts.
        raise RunAbortedError(
            f"experiment key {spec.key!r} already names an experiment with other parameters "
            f"({_canonical(row.params)[:300]}); refusing to run {_canonical(spec.params)[:300]} under it"
        )
    if row.status in ("completed", "error") and row.outcome:
        return None
    if row.status != "pending":
        # Interrupted mid-experiment by a killed process (marked so by the server that noticed, or
        # not yet noticed), or stopped before its outcome was recorded: start over.
        context.emit("experiment", f"{spec.key}: restarting after an interruption", key=spec.key)
    directory = fresh_directory(context.run_dir, context.run_dir / "experiments" / spec.key)
    store.update_experiment(row.id, status="running", started_at=utcnow(), workdir=str(directory))
    context.emit("experiment", f"{spec.key}: started", key=spec.key, experiment_id=row.id, params=spec.params)
    return PreparedExperiment(spec=spec, experiment_id=row.id, directory=directory)


def _canonical(params: dict[str, Any]) -> str:
    """Parameters as the store keeps them (JSON), in one spelling: what makes two experiments the same."""
    return json.dumps(params, sort_keys=True, default=str)


def fresh_directory(root: Path, directory: Path) -> Path:
    """`directory` below `root`, existing and empty, reached through real directories only.

    Whatever an earlier attempt left there (the sandbox of an interrupted experiment, a candidate that
    planted files where a gate's rerun writes) is removed without following any link, and a link on
    the way is replaced by a directory, so the attempt starts from nothing and writes nowhere else.

    Raises:
        RunAbortedError: `directory` is not below `root`, or what is there cannot be removed.
    """
    relative = _relative_parts(directory, root)
    current = root
    for name in relative[:-1]:
        current = current / name
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            _remove(current)
        current.mkdir(exist_ok=True)
    target = root.joinpath(*relative)
    if target.is_symlink() or target.exists():
        _remove(target)
    target.mkdir()
    return target


def _relative_parts(directory: Path, root: Path) -> tuple[str, ...]:
    if not _is_below(directory, root):
        raise RunAbortedError(f"{directory} is not below the run's folder {root}")
    return directory.relative_to(root).parts


def _is_below(directory: Path, root: Path) -> bool:
    """True when `directory` names a path strictly below `root`, without `..` (no link is resolved)."""
    try:
        parts = directory.relative_to(root).parts
    except ValueError:
        return False
    return bool(parts) and ".." not in parts


def _remove(path: Path) -> None:
    """Remove what a sandbox left at `path`; a failure aborts the run rather than reusing the leftovers."""
    try:
        remove_untrusted_tree(path)
    except OSError as error:
        raise RunAbortedError(
            f"cannot clear {path} before running there: {error.strerror or error}; remove it by hand and resume"
        ) from None
    if path.is_symlink() or path.exists():
        raise RunAbortedError(f"cannot clear {path} before running there; remove it by hand and resume")


RESOURCE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
"""Failures of the machine, not of the experiment: a full disk, a spent quota, a read-only file system."""

_RESOURCE_MARK = re.compile(r"^\w*Error: \[Errno (" + "|".join(str(code) for code in sorted(RESOURCE_ERRNOS)) + r")\] ")
"""An exception a tool caught and recorded as `Type: message` (`OSError: [Errno 28] No space left on device`).
Anchored at the start, so text a tool merely quotes (a solver's log line) cannot pose as one."""

MIN_FREE_BYTES = 1 << 20
"""Below this much free space, a failed experiment's folder is taken to have failed for want of space."""


def resource_failure(error: OSError, directory: Path) -> str:
    """Why the run stops when the machine, not the experiment, failed: what and where, and what to do."""
    where = f" ({error.filename})" if error.filename else ""
    return (
        f"{error.strerror or error}{where} while running in {directory}: a failure of the machine, not a "
        "result; free space (or make the folder writable) and run the task again"
    )


def reported_resource_failure(outcome: ExperimentOutcome, directory: Path) -> str | None:
    """The reason an outcome failed for want of space or a writable disk, or None when it did not.

    A tool may catch the error itself (a post-processing step records it and returns) or die of it
    (a solver that cannot write its fields crashes), leaving an outcome that would be judged as the
    experiment's own failure and stored as a verdict on the science. Judged on what the outcome says
    (an exception with an errno of RESOURCE_ERRNOS as its error or a note) and, for a failed outcome,
    on the space left.
    """
    texts = [outcome.error or "", *(value for value in outcome.info.values() if isinstance(value, str))]
    for text in texts:
        if _RESOURCE_MARK.match(text):
            line = text.splitlines()[0][:300]
            return (
                f"{line}, while running in {directory}: the experiment's failure is the machine's, not a result; "
                "free space (or make the folder writable) and run the task again"
            )
    failed = outcome.status == "error" or "analysis_error" in outcome.info
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return None
    if failed and free < MIN_FREE_BYTES:
        return (
            f"the experiment failed with only {free} bytes free on the disk holding {directory}: its failure "
            "is taken to be the full disk's, not a result; free space and run the task again"
        )
    return None


def run_driver(execution: Execution, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
    """Execute one experiment with its workload's proposer; failures of the experiment become its outcome.

    `execution` is the run's RunContext on the head, or an executor's remote context on a worker.
    A missing tool, sandbox or proposer plugin is not the experiment's fault and aborts the run instead,
    and so does a full disk or a read-only folder (see `reported_resource_failure`): either would
    otherwise be recorded, and judged, as the experiment's own failure.
    """
    start = time.monotonic()
    try:
        proposer = proposer_for(execution.workload.name)
        outcome = execution.workload.refuse_undeclared(proposer.run_experiment(execution, spec, directory))
    except (SandboxUnavailableError, ToolUnavailableError, PluginError) as error:
        raise RunAbortedError(str(error)) from error
    except Exception as error:  # must become a recorded outcome, never a crash (a full disk aborts the run)
        if isinstance(error, OSError) and error.errno in RESOURCE_ERRNOS:
            raise RunAbortedError(resource_failure(error, directory)) from error
        if is_store_error(error):  # the store's trouble, not the experiment's result
            raise RunAbortedError(store_failure(error)) from error
        outcome = ExperimentOutcome(
            key=spec.key,
            status="error",
            error=f"{type(error).__name__}: {error}",
            info={"traceback": traceback.format_exc(limit=8)},
        )
    if (reason := reported_resource_failure(outcome, directory)) is not None:
        raise RunAbortedError(reason)
    outcome.info.setdefault("execution_seconds", round(time.monotonic() - start, 3))
    return outcome


def finish_experiment(context: RunContext, prepared: PreparedExperiment, outcome: ExperimentOutcome) -> None:
    """Record the outcome and its files as artifacts, once."""
    spec = prepared.spec
    staged = stage_outputs(context, prepared.experiment_id, spec.key, prepared.directory, outcome)
    evidence = {path: artifact.sha256 for path, artifact in staged}
    context.store.finish_experiment(
        prepared.experiment_id,
        [artifact for _, artifact in staged],
        status=outcome.status,
        error=outcome.error,
        metrics=outcome.metrics,
        outcome=outcome.model_dump(mode="json"),
        evidence=evidence,
        finished_at=utcnow(),
    )
    message = f"{spec.key}: {outcome.status}" + (f" ({outcome.error})" if outcome.error else "")
    context.emit("experiment", message, key=spec.key, experiment_id=prepared.experiment_id, status=outcome.status)


def abort_experiment(context: RunContext, prepared: PreparedExperiment, reason: str) -> None:
    context.store.update_experiment(prepared.experiment_id, status="error", error=reason, finished_at=utcnow())


def stage_outputs(
    context: RunContext, experiment_id: int, key: str, directory: Path, outcome: ExperimentOutcome
) -> list[tuple[str, Artifact]]:
    """Store every produced file's bytes as an artifact; returns (relative path, row to record) for each.

    The experiment directory was written by the sandbox, so each file is read without following any
    link below `directory`, regular files only, size-capped. A refused file is not stored: its
    reason is added to `outcome.refused` (the gates turn it into a verdict reason) and
    reported as an event, and the run goes on.
    """

    def stage(item: OutputFile) -> Artifact | UntrustedFileError | None:
        try:
            return context.store.stage_artifact(
                context.run_id,
                directory / item.path,
                kind=item.kind,
                name=f"{key}/{item.path}",
                experiment_id=experiment_id,
                produced_by=f"{context.workload.name}:{item.role}",
                within=directory,
            )
        except UntrustedFileMissingError:
            return None  # not produced: the gates that need it say so
        except UntrustedFileError as error:
            return error

    # Each stored file is synced to the disk before its name, and its folder after (`write_atomically`): one
    # at a time, a cavity case's 16-19 files took 0.2-0.5 s of syncs after its solver ended, on the critical
    # path of the run's last case; side by side, the file system commits them together (16 in 0.02 s).
    files = list(outcome.files)
    with ThreadPoolExecutor(max_workers=max(1, min(STAGING_THREADS, len(files))), thread_name_prefix="stage") as pool:
        results = list(pool.map(stage, files))
    staged: list[tuple[str, Artifact]] = []
    for item, result in zip(files, results, strict=True):
        if result is None:
            continue
        if isinstance(result, UntrustedFileError):
            if not any(refusal.startswith(f"{item.path}: ") for refusal in outcome.refused):
                outcome.refused.append(f"{item.path}: {result.reason}")
            context.emit("refused", f"{key}: {item.path} not stored: {result.reason}", key=key, path=item.path)
            continue
        staged.append((item.path, result))
    return staged


def restore_recorded_outputs(context: RunContext, directory: Path, evidence: dict[str, str]) -> list[str]:
    """Put back, from the artifact store, every recorded output that no longer holds the recorded bytes.

    Verdicts cite the digests recorded when the experiment finished, while the gates read the files
    in its directory: anything that changed them in between (a process the candidate left behind, an
    edit before `agent resume`) would be judged under the recorded digests. The store's own copy is put
    back from the directory where the store lost it and the directory still holds the recorded bytes (the
    report cites it); where neither holds them, nothing trustworthy is left to judge and the run stops.
    Returns the paths restored.

    Raises:
        RunAbortedError: an output holds other bytes than recorded and the store has no intact copy.
    """
    restored = []
    artifacts = context.store.artifacts
    for relative, digest in sorted(evidence.items()):
        try:
            recorded: Path | None = artifacts.open_path(digest)
        except (ArtifactNotFoundError, DamagedArtifactError):
            recorded = None
        current = _recorded_bytes_in(directory, relative, digest)
        if current is not None:
            if recorded is None:
                artifacts.put_bytes(current)
            continue
        if recorded is None:
            raise RunAbortedError(
                f"{relative} changed or was removed after it was recorded, and the artifact store no longer "
                f"holds the recorded bytes (sha256 {digest[:12]}...): nothing trustworthy is left to judge"
            )
        try:
            data = recorded.read_bytes()
        except OSError as error:
            raise RunAbortedError(
                f"{relative} changed after it was recorded, and its record is unreadable: {error}"
            ) from None
        if hashlib.sha256(data).hexdigest() != digest:
            # Checked when opened; bytes put there since are not the ones recorded.
            raise RunAbortedError(
                f"{relative} changed after it was recorded, and the artifact store's copy no longer holds the "
                f"recorded bytes (sha256 {digest[:12]}...): nothing trustworthy is left to judge"
            )
        target = fresh_directory(directory.parent, directory / relative)
        target.rmdir()
        target.write_bytes(data)
        restored.append(relative)
    return restored


def stored_artifact_path(context: RunContext, artifact: Artifact) -> Path:
    """The artifact store's file of a recorded artifact, put back first from the experiment's folder when the
    store lost it (or holds other bytes under its digest) and the folder still holds the recorded bytes.

    Raises:
        RunAbortedError: neither the store nor the folder holds the recorded bytes; a report showing this
            artifact would show something no gate judged.
    """
    artifacts = context.store.artifacts
    try:
        return artifacts.open_path(artifact.sha256, artifact.size)
    except (ArtifactNotFoundError, DamagedArtifactError) as error:
        problem = str(error)
    data = _recorded_bytes_in(context.run_dir / "experiments", artifact.name, artifact.sha256)
    if data is None:
        raise RunAbortedError(
            f"artifact {artifact.name} is lost: {problem}, and its experiment's folder no longer holds the "
            "recorded bytes"
        )
    artifacts.put_bytes(data)
    return artifacts.open_path(artifact.sha256, artifact.size)


def _recorded_bytes_in(folder: Path, relative: str, digest: str) -> bytes | None:
    """The bytes of `folder/relative` (read as untrusted), when they are still the ones recorded under `digest`."""
    try:
        data = read_untrusted(folder, relative, max_bytes=MAX_ARTIFACT_BYTES)
    except UntrustedFileError:
        return None
    return data if hashlib.sha256(data).hexdigest() == digest else None


def rerun_into(context: RunContext, extra: ExperimentSpec, where: Path) -> ExperimentOutcome:
    """A gate's new run (a refined mesh, a held-out flow) in `where`, emptied first.

    `where` may lie in the candidate's own directory (the mesh check's), which its sandbox could
    write, or be left by an interrupted attempt of the same check: whatever is there (a planted
    result, a link out of the run) is not the rerun's, so it is removed and never followed.
    """
    if _is_below(where, context.run_dir):
        fresh_directory(context.run_dir, where)
    else:
        where.mkdir(parents=True, exist_ok=True)
    return context.workload.run(context.task, extra, where, context.sandbox_factory)


def judge_experiment(context: RunContext, spec: ExperimentSpec, experiment_id: int) -> tuple[str, list[GateResult]]:
    """Apply the task's gates in order (`verifiers.judge`); store each verdict; return the combined decision."""
    store = context.store
    row = store.find_experiment(context.run_id, spec.key)
    assert row is not None
    existing: dict[str, GateResult] = {v.gate: v for v in store.verdicts(context.run_id, experiment_id)}
    if row.decision and existing:
        return row.decision, [existing[name] for name in context.task.gates if name in existing]
    outcome = ExperimentOutcome.model_validate(row.outcome)
    directory = context.experiment_dir(spec.key)
    restored = restore_recorded_outputs(context, directory, row.evidence)
    if restored:
        context.emit(
            "refused",
            f"{spec.key}: changed after they were recorded, judged as recorded: {', '.join(restored[:8])}",
            key=spec.key,
            paths=restored,
        )

    def rerun(extra: ExperimentSpec, where: Path) -> ExperimentOutcome:
        return rerun_into(context, extra, where)

    def record(result: GateResult) -> None:
        context.record_verdict(experiment_id, spec.key, result)

    judgement = judge(
        context.task,
        spec,
        directory,
        outcome,
        gates=build_gates(context.task, context.workload),
        evidence=row.evidence,
        sandbox_factory=context.sandbox_factory,
        rerun=rerun,
        vision=vision_judge_for(context.llm),
        done=existing,  # judged before the process was interrupted: never judge twice
        on_verdict=record,
    )
    decision = judgement.decision  # never "inconclusive": a run gives every gate `rerun`
    store.update_experiment(experiment_id, decision=decision)
    context.emit("decision", f"{spec.key}: {decision}", key=spec.key, decision=decision)
    proposer_for(context.workload.name).judged(context, spec, decision)
    return decision, judgement.verdicts
