"""`agent check-case TASK CASE_DIR`: run a task's gates on an OpenFOAM case someone already ran.

The case is copied first; parameters are read back from its own dictionaries, the harness's
post-processing runs on the copy, and every gate judges the copy. The user's directory is only
read. Gates that need new runs (mesh independence, held-out flows) run only with `--rerun`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from agents import RunLauncher, RunOptions
from api._settings import Settings, build_launcher
from runs import ExperimentSpec, GateResult, combine_decisions, new_run_id, walk_untrusted
from tools import ExperimentOutcome, TaskError, ToolUnavailableError
from verifiers import GateContext, get_gate, run_gate


def _bad_input(message: str) -> Exception:
    """Bad input: `agent` prints it as one line and exits 2 (click's usage errors take that path)."""
    return click.UsageError(message)


def check_case(
    launcher: RunLauncher,
    task_ref: str,
    source: Path,
    work: Path,
    *,
    rerun: bool,
    unsafe_no_isolation: bool = False,
) -> dict[str, Any]:
    """Adopt the case into `work`, run the task's gates on it, and return the decision and verdicts."""
    task = launcher.catalog.with_deviations(launcher.catalog.load(task_ref))
    workload = launcher.catalog.workload_for(task)
    adopt = getattr(workload, "adopt", None)
    if adopt is None:
        raise TaskError(f"{task.workload} tasks cannot check an existing case directory")
    if not (source / "system" / "controlDict").is_file():
        raise TaskError(f"{source} is not an OpenFOAM case (no system/controlDict)")
    workload.check_tools(task)
    factory = launcher.sandbox_factory(RunOptions(unsafe_no_isolation=unsafe_no_isolation))
    spec, outcome = adopt(task, source, work, factory)
    assert isinstance(spec, ExperimentSpec) and isinstance(outcome, ExperimentOutcome)

    def run_more(extra: ExperimentSpec, where: Path) -> ExperimentOutcome:
        where.mkdir(parents=True, exist_ok=True)
        result = workload.run(task, extra, where, factory)
        assert isinstance(result, ExperimentOutcome)
        return result

    results: list[GateResult] = []
    skipped: list[str] = []
    for name in task.gates:
        gate = get_gate(name)
        if gate.needs_run and not rerun:
            skipped.append(name)
            continue
        context = GateContext(
            task=task,
            experiment=spec,
            directory=work,
            outcome=outcome,
            evidence={},
            options=dict(task.gate_options.get(name, {})),
            sandbox_factory=factory,
            rerun=run_more if rerun else None,
            prior=list(results),
        )
        results.append(run_gate(gate, context))
    return {
        "decision": combine_decisions([result.decision for result in results]),
        "verdicts": [result.model_dump() for result in results],
        "task": task.label,
        "gate_deviations": [deviation.model_dump(mode="json") for deviation in task.gate_deviations],
        "case": str(source),
        "params": spec.params,
        "workdir": str(work),
        "skipped": skipped,
        "refused": list(outcome.refused),
        "vision": "offline checks only (no vision model in this command)",
    }


def _tree_digest(root: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for entry in walk_untrusted(root):  # links are listed, never followed
        digest.update(f"{entry.relative}:{entry.kind}".encode())
        if entry.kind == "file":
            info = (root / entry.relative).lstat()
            digest.update(f"{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()


@click.command("check-case")
@click.argument("task")
@click.argument("case_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--rerun", is_flag=True, help="also run the gates that need new runs (on copies)")
@click.option("--unsafe-no-isolation", is_flag=True, help="run post-processing without bubblewrap (rlimits only)")
def check_case_command(task: str, case_dir: Path, as_json: bool, rerun: bool, unsafe_no_isolation: bool) -> None:
    """Run TASK's gates on an existing OpenFOAM case in CASE_DIR without re-running its solver."""
    settings = Settings()
    launcher = build_launcher(settings)
    source = case_dir.expanduser().resolve()
    if not source.is_dir():
        raise _bad_input(f"case directory {case_dir} does not exist")
    work = settings.home.expanduser().resolve() / "checks" / new_run_id()
    work.mkdir(parents=True, exist_ok=True)
    before = _tree_digest(source)
    try:
        result = check_case(launcher, task, source, work, rerun=rerun, unsafe_no_isolation=unsafe_no_isolation)
    except TaskError as error:
        raise _bad_input(str(error)) from None
    except ToolUnavailableError as error:
        print(f"agent: error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    if _tree_digest(source) != before:
        result["decision"] = "reject"
        result["verdicts"].append(
            {"gate": "check-case", "decision": "reject", "reasons": ["the case directory changed while it was checked"]}
        )
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
        return
    console = Console()
    colour = {"accept": "green", "reject": "red"}.get(result["decision"], "yellow")
    console.print(f"{result['task']} on {source}: [{colour}]{result['decision']}[/{colour}]", highlight=False)
    params = ", ".join(f"{k}={v}" for k, v in sorted(result["params"].items()) if k != "case")
    console.print(f"parameters read from the case: {params}", highlight=False)
    for verdict in result["verdicts"]:
        console.print(f"  {verdict['gate']}: {verdict['decision']} — " + "; ".join(verdict["reasons"]), highlight=False)
    for refusal in result["refused"]:
        console.print(f"  not copied or not read: {refusal}", highlight=False)
    if result["skipped"]:
        console.print(f"not run (need new runs; use --rerun): {', '.join(result['skipped'])}", highlight=False)
    console.print(f"figures and copies: {work}", highlight=False)
