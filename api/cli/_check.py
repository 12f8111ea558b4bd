"""`agent check TASK PATH`: judge an existing result with the task's gates, exactly as a run would.

The task's workload adopts PATH into a fresh work directory under the data home (an OpenFOAM case
is copied and post-processed, a kernel or a proof file becomes the file a search would leave), and
`verifiers.judge` applies the task's gates, built as for a run, to the copy. PATH is only read; a
PATH that changes while it is checked is rejected. Gates that need new runs (mesh independence,
held-out flows, and the reproduction every adopted CFD result gets first: `Workload.adoption_gates`)
run only with `--rerun`; without it they are listed as skipped, and a result that every other gate
accepts is "inconclusive", never "accept". Once the reproduction accepts, the gates after it judge
labgate's re-run, not the folder (its metrics are the ones printed; `details.judged` names its folder):
a folder matches its re-run only within the solvers' tolerance, and that slack is not the user's to spend.
No vision model is consulted.

`check-case`, `eval-kernel` and `check-proof` are aliases, their old options mapped onto `check`'s.

Every workload prints the same JSON object (--json): decision, task, workload, source, verdicts,
skipped, refused, gate_deviations, params, metrics, workdir, and details (what the workload records
about the adopted result). Exit codes, the same for every workload: 0 when the decision is accept;
1 when it is anything else (reject, revise, rerun, inconclusive); 2 when nothing was judged: bad
input (unknown task, bad option, a PATH that is missing, unreadable or of the wrong kind) or the
task's tool or sandbox is not usable here.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from agents import RunLauncher, RunOptions, fresh_directory, refuse_renamed_subject
from api._errors import BadInputError
from api._json import dumps_strict
from api._settings import Settings, build_launcher
from api._terminal import TerminalConsole, styled
from api.cli._isolation import announce_isolation_gaps
from runs import (
    ExperimentSpec,
    GateResult,
    LabgateError,
    TaskSpec,
    UntrustedFileError,
    UntrustedFileMissingError,
    describe_deviations,
    new_run_id,
    read_untrusted,
    walk_untrusted,
)
from tools import (
    ExperimentOutcome,
    TaskError,
    Workload,
    apply_overrides,
    listed_twice,
    parse_overrides,
    parse_scalar,
)
from verifiers import Gate, build_gates, gate_class, gate_label, get_gate, judge

MAX_EVIDENCE_BYTES = 256 << 20


def set_gate_options(task: TaskSpec, settings: Sequence[str]) -> TaskSpec:
    """`--gate-option [GATE.]NAME=VALUE`: set one gate option; without GATE, on every gate of the task that has it.

    Raises:
        TaskError: the setting is malformed, or no gate of the task has the option.
    """
    task = task.model_copy(deep=True)
    for item in settings:
        key, sep, raw = item.partition("=")
        gate, dot, option = key.strip().rpartition(".")
        if not sep or not option or not raw.strip() or (dot and not gate):
            raise TaskError(f"--gate-option {item!r} must look like [gate.]option=value")
        targets = [gate] if gate else [name for name in task.gates if option in gate_class(name).Options.model_fields]
        if not targets:
            raise TaskError(f"no gate of {task.id} has the option {option!r} (gates: {', '.join(task.gates)})")
        value = _option_value(item, raw.strip())
        for name in targets:
            task.gate_options[name] = {**task.gate_options.get(name, {}), option: value}
    return task


class DuplicateKeyError(LabgateError, ValueError):
    """A JSON object naming one key twice: task files and REST bodies refuse it, and so does a gate option."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    repeated = sorted(listed_twice(key for key, _ in pairs))
    if repeated:
        raise DuplicateKeyError(f"the value names {', '.join(map(repr, repeated))} more than once")
    return dict(pairs)


def _option_value(item: str, raw: str) -> Any:
    """A number, boolean or text; a JSON object or list where the value starts as one (`tolerances={...}`)."""
    if not raw.startswith(("{", "[")):
        return parse_scalar(raw)
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicate_keys)
    except DuplicateKeyError as error:
        raise TaskError(f"--gate-option {item!r}: {error}") from None
    except json.JSONDecodeError as error:
        raise TaskError(f"--gate-option {item!r}: the value is not valid JSON ({error.msg})") from None
    except RecursionError:
        raise TaskError(f"--gate-option {item!r}: the value nests deeper than JSON values are read") from None


def prepare_task(
    launcher: RunLauncher, reference: str, params: Sequence[str], gate_settings: Sequence[str]
) -> TaskSpec:
    """The task to judge with: loaded, overridden, validated, its deviations from the catalog recorded.

    Raises:
        TaskError: the task is unknown or an override is invalid.
    """
    task = launcher.catalog.load(reference)
    if params or gate_settings:
        task = set_gate_options(apply_overrides(task, params=list(params)), gate_settings)
        launcher.catalog.validate(task)
        # Named after what it now checks, as `run` and the REST API name it: a catalog problem given another
        # statement (`--param statement=`) is a theorem of one's own, and its accept must not read as the
        # catalog problem's.
        task = launcher.catalog.workload_for(task).titled(task)
        refuse_renamed_subject(task, launcher.catalog.reference(task))
    return launcher.catalog.with_deviations(task)


def _evidence(work: Path, outcome: ExperimentOutcome) -> dict[str, str]:
    """sha256 of each file of the outcome, as a run records them; a refused file is named in `refused`."""
    evidence: dict[str, str] = {}
    for item in outcome.files:
        try:
            data = read_untrusted(work, item.path, max_bytes=MAX_EVIDENCE_BYTES)
        except UntrustedFileMissingError:
            continue
        except UntrustedFileError as error:
            if not any(refusal.startswith(f"{item.path}: ") for refusal in outcome.refused):
                outcome.refused.append(f"{item.path}: {error.reason}")
            continue
        evidence[item.path] = hashlib.sha256(data).hexdigest()
    return evidence


def check_result(
    launcher: RunLauncher,
    task: TaskSpec,
    source: Path,
    work: Path,
    *,
    rerun: bool,
    unsafe_no_isolation: bool = False,
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Adopt `source` into `work`, judge it with the task's gates, and return the report (see the module doc).

    `given` holds the parameters the user set (`--param`): one the adopted result holds with another value
    is refused, not silently replaced by the result's own.

    Raises:
        TaskError: the workload cannot adopt `source`, or `given` contradicts what it holds.
        ToolUnavailableError: the task's tool is missing.
        SandboxError: no sandbox can be started.
    """
    workload = launcher.catalog.workload_for(task)
    workload.check_tools(task)
    with launcher.sandbox_factory(RunOptions(unsafe_no_isolation=unsafe_no_isolation)) as factory:
        spec, outcome = workload.adopt(task, source, work, factory)
        if contradicted := _contradicted(given or {}, spec.params):
            raise TaskError(
                f"--param {'; '.join(contradicted)}: a result is judged as it stands, with its own parameters"
            )
        # What the user brought was not produced under labgate's eyes: the workload's adoption gates first.
        gates = adoption_first(build_gates(task, workload), workload)

        def run_more(extra: ExperimentSpec, where: Path) -> ExperimentOutcome:
            # Emptied first and reached through real folders only, as a run's gate reruns are: a mesh check's
            # folder lies inside the adopted case, which the case's own reproduction wrote.
            fresh_directory(work.parent, where)
            return workload.run(task, extra, where, factory)

        judgement = judge(
            task,
            spec,
            work,
            outcome,
            gates=gates,
            evidence=_evidence(work, outcome),
            sandbox_factory=factory,
            rerun=run_more if rerun else None,
            evidence_of=_evidence,
        )
    judged = judgement.judged.outcome if judgement.judged is not None else outcome
    return {
        "decision": judgement.decision,
        "task": task.label,
        "workload": task.workload,
        "source": str(source),
        "verdicts": [verdict.model_dump(mode="json") for verdict in judgement.verdicts],
        "skipped": judgement.skipped,
        "refused": list(outcome.refused),
        "gate_deviations": [deviation.model_dump(mode="json") for deviation in task.gate_deviations],
        "params": spec.params,
        "metrics": judged.metrics,
        "workdir": str(work),
        "details": outcome.info | ({"judged": str(judgement.judged.directory)} if judgement.judged is not None else {}),
    }


def adoption_first(gates: list[Gate], workload: Workload) -> list[Gate]:
    """The workload's adoption gates first, then the task's others in their order.

    Every other gate reads what the adoption gates have shown to stand (the re-run of a case); a task file
    that listed `reproduction` last had the comparator read the folder first, and a velocity nudged toward
    the reference beside the centrelines, within the reproduction's tolerance, was accepted again.
    """
    listed = {gate_label(gate): gate for gate in gates}
    first = [listed.get(name) or get_gate(name, workload=workload) for name in workload.adoption_gates]
    return first + [gate for gate in gates if gate_label(gate) not in workload.adoption_gates]


def _contradicted(given: Mapping[str, Any], held: Mapping[str, Any]) -> list[str]:
    """Each parameter the user set that the adopted result holds with another value, said as both."""
    found = []
    for name, value in given.items():
        if name in held and not _same_value(value, held[name]):
            found.append(f"{name}={value} but the result holds {name}={held[name]}")
    return found


def _same_value(given: Any, held: Any) -> bool:
    if isinstance(given, int | float) and isinstance(held, int | float) and not isinstance(given, bool):
        return math.isclose(float(given), float(held), rel_tol=1e-6, abs_tol=0.0)
    return str(given) == str(held)


def given_params(task: TaskSpec, params: Sequence[str]) -> dict[str, Any]:
    """`--param name=value` as values, each name as `task` spells it (`Re` for `re`, as the override set it);
    a sweep `a,b` is no single value and is left to the task's validation."""
    return {name: values[0] for name, values in parse_overrides(task, params).items() if len(values) == 1}


def source_digest(root: Path) -> str:
    """What changes when anything in `root` (a file, or a tree walked without following links) changes."""
    digest = hashlib.sha256()
    if not root.is_dir():
        info = root.lstat()
        return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"
    for entry in walk_untrusted(root):
        digest.update(f"{entry.relative}:{entry.kind}".encode())
        if entry.kind == "file":
            try:
                info = (root / entry.relative).lstat()
            except FileNotFoundError:
                digest.update(b"gone")  # removed while walked: a change the second digest sees too
                continue
            digest.update(f"{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()


def run_check(
    task: str,
    path: Path,
    *,
    as_json: bool,
    rerun: bool = False,
    unsafe_no_isolation: bool = False,
    params: Sequence[str] = (),
    gate_settings: Sequence[str] = (),
) -> None:
    """What `check` and its aliases do: judge, print, and exit 0 (accept), 1 (not accepted) or 2 (bad input)."""
    settings = Settings()
    launcher = build_launcher(settings)
    try:
        spec = prepare_task(launcher, task, params, gate_settings)
    except TaskError as error:
        raise BadInputError(str(error)) from None
    try:
        source = path.expanduser().resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: a loop of links
        raise BadInputError(f"cannot read {path}: {error}") from None
    if not source.exists():
        raise BadInputError(f"{path} does not exist")
    # The case in `case/`, the gates' own runs beside it (`_held-out/`): each check's, never shared with another
    # check made in the same home (one held-out flow per home once mixed checks' baselines and failures).
    work = settings.home.expanduser().resolve() / "checks" / new_run_id() / "case"
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInputError(f"cannot make {work} for the check: {error.strerror or error}") from None
    try:
        before = source_digest(source)
    except UntrustedFileError as error:
        raise BadInputError(f"cannot read {path}: {error.reason}") from None
    announce_isolation_gaps(spec.sandbox, unsafe_no_isolation)
    try:
        result = check_result(
            launcher,
            spec,
            source,
            work,
            rerun=rerun,
            unsafe_no_isolation=unsafe_no_isolation,
            given=given_params(spec, params),
        )
    except LabgateError as error:  # the task, tool or sandbox, or what the case's own tools reported back
        raise BadInputError(str(error)) from None
    if source_digest(source) != before:
        changed = GateResult(gate="check", decision="reject", reasons=[f"{path} changed while it was checked"])
        result["decision"] = "reject"
        result["verdicts"].append(changed.model_dump(mode="json"))
    if as_json:
        sys.stdout.write(dumps_strict(result) + "\n")
    else:
        _print(result)
    if result["decision"] != "accept":
        raise SystemExit(1)


def _print(result: dict[str, Any]) -> None:
    """The result, one line per fact: the source's name, reasons and refusals (file names from the user's case)
    are untrusted, so they print as plain text on one line each (see `api._terminal`)."""
    console = TerminalConsole()
    colour = {"accept": "green", "reject": "red"}.get(result["decision"], "yellow")
    console.print(styled(f"{result['task']} on {result['source']}: ", (result["decision"], colour)))
    if result["gate_deviations"]:  # an accept under loosened gates says which, as `agent show` does for a run
        console.print(f"custom gates: {describe_deviations(result['gate_deviations'])}")
    params = ", ".join(f"{k}={v}" for k, v in sorted(result["params"].items()) if not isinstance(v, dict | list))
    console.print(f"parameters: {params}")
    for verdict in result["verdicts"]:
        console.print(f"  {verdict['gate']}: {verdict['decision']}")
        for reason in verdict["reasons"]:
            console.print(f"    - {reason}")
    for refusal in result["refused"]:
        console.print(f"  not copied or not read: {refusal}")
    if result["skipped"]:
        console.print(f"not run (need new runs; use --rerun): {', '.join(result['skipped'])}")
    console.print(f"copies and figures: {result['workdir']}")


_JSON = click.option("--json", "as_json", is_flag=True, help="print one JSON object (the same keys for every workload)")
_ISOLATION = click.option("--unsafe-no-isolation", is_flag=True, help="run the tools without bubblewrap (rlimits only)")


@click.command("check")
@click.argument("task")
@click.argument("path", type=click.Path(path_type=Path))
@_JSON
@click.option("--rerun", is_flag=True, help="also run the gates that need new runs (on copies)")
@_ISOLATION
@click.option("--param", "params", multiple=True, help="name=value, a task parameter (repeatable)")
@click.option("--gate-option", "gate_settings", multiple=True, help="[gate.]option=value, a gate setting (repeatable)")
def check_command(
    task: str,
    path: Path,
    as_json: bool,
    rerun: bool,
    unsafe_no_isolation: bool,
    params: tuple[str, ...],
    gate_settings: tuple[str, ...],
) -> None:
    """Judge PATH, an existing result of TASK (an OpenFOAM case directory, a kernel file, a proof
    file), with the task's gates, as a run would. Exit 0 accept, 1 not accepted, 2 bad input."""
    run_check(
        task,
        path,
        as_json=as_json,
        rerun=rerun,
        unsafe_no_isolation=unsafe_no_isolation,
        params=params,
        gate_settings=gate_settings,
    )


@click.command("check-case")
@click.argument("task")
@click.argument("case_dir", type=click.Path(path_type=Path))
@_JSON
@click.option("--rerun", is_flag=True, help="also run the gates that need new runs (on copies)")
@_ISOLATION
def check_case_command(task: str, case_dir: Path, as_json: bool, rerun: bool, unsafe_no_isolation: bool) -> None:
    """Alias of `agent check TASK CASE_DIR` for an OpenFOAM case someone already ran."""
    run_check(task, case_dir, as_json=as_json, rerun=rerun, unsafe_no_isolation=unsafe_no_isolation)


@click.command("eval-kernel")
@click.argument("task")
@click.argument("file", type=click.Path(path_type=Path))
@_JSON
@click.option(
    "--min-speedup",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="held-out speedup over the seed required with 95% confidence (gate option min_speedup; task's default)",
)
@click.option("--timeout", type=click.FloatRange(min=1), default=None, help="seconds per size (param eval_timeout)")
@_ISOLATION
def eval_kernel_command(
    task: str, file: Path, as_json: bool, min_speedup: float | None, timeout: float | None, unsafe_no_isolation: bool
) -> None:
    """Alias of `agent check TASK FILE` for an OpenCL kernel (e.g. kernels/heat2d)."""
    run_check(
        task,
        file,
        as_json=as_json,
        unsafe_no_isolation=unsafe_no_isolation,
        params=[f"eval_timeout={timeout!r}"] if timeout is not None else [],
        gate_settings=[f"min_speedup={min_speedup!r}"] if min_speedup is not None else [],
    )


@click.command("check-proof")
@click.argument("task")
@click.argument("file", type=click.Path(path_type=Path))
@_JSON
@click.option("--timeout", type=click.FloatRange(min=1), default=None, help="seconds for coqc (gate option timeout)")
@_ISOLATION
def check_proof_command(task: str, file: Path, as_json: bool, timeout: float | None, unsafe_no_isolation: bool) -> None:
    """Alias of `agent check TASK FILE` for a Coq proof of one statement
    (e.g. proofs/minif2f-valid/mathd_algebra_10)."""
    run_check(
        task,
        file,
        as_json=as_json,
        unsafe_no_isolation=unsafe_no_isolation,
        gate_settings=[f"timeout={timeout!r}"] if timeout is not None else [],
    )
