"""Planted failures: how many broken results does each set of gates catch, and does it flag good ones?

Runs one accepted case of each of four flows (cavity, channel, backward step, periodic hill) with the
real solver, then plants four kinds of failure into copies of each, after the run:
  deleted-deliverable   the field figure is deleted
  impossible-target     the task's requirement is made unattainable (comparator limit set to ~0)
  zeroed-postprocessing the solver's own post-processing output (line samples, wall shear) is zeroed
  truncated-history     the last time directory is removed and the log cut short (an unconverged run)
plus the four untouched cases as controls. Each copy is judged (a) by the solver-log gate alone and
(b) by every gate of the flow's task (gates that need new runs only with --rerun). Prints a table,
then one JSON line: {"planted": 16, "caught_solver_only": n, "caught_all_gates": n, "false_alarms": n,
"controls": 4}.

Usage: .venv/bin/python bench/planted_failures.py [--rerun] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runs import ExperimentSpec, TaskSpec, combine_decisions
from sandboxes import LocalSandbox
from tools import ExperimentOutcome
from tools.cfd import CfdWorkload, latest_time
from verifiers import GateContext, get_gate, run_gate

# Coarse but accepted versions of each catalog task's case (the bench measures gates, not meshes).
FLOWS: dict[str, tuple[str, dict[str, Any], dict[str, dict[str, Any]]]] = {
    "cavity": ("cfd/cavity", {"re": 100, "cells": 32}, {}),
    "channel": ("cfd/poiseuille", {"re": 100, "cells": 20}, {}),
    "backward step": ("cfd/backward-step", {"model": "kEpsilon", "refinement": 0.5, "iterations": 1500}, {}),
    "periodic hill": (
        "cfd/periodic-hill",
        {"cells_x": 60, "cells_y": 40, "iterations": 1500},
        {"solver-log": {"residual_drop": 0.002}},
    ),
}
IMPOSSIBLE = {
    "cavity": {"rmse_max": 1e-9},
    "poiseuille": {"profile_rmse_max": 1e-12},
    "backward-step": {"reattachment_tolerance": 1e-9},
    "periodic-hill": {"cf_rmse_max": 1e-9},
}


def _zero_numbers(text: str) -> str:
    return re.sub(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?", "0", text)


def plant_deleted(directory: Path, task: TaskSpec) -> TaskSpec:
    (directory / "figures" / "fields.png").unlink()
    return task


def plant_impossible(directory: Path, task: TaskSpec) -> TaskSpec:
    task = task.model_copy(deep=True)
    kind = str(task.params["case"])
    task.gate_options["comparator"] = {**task.gate_options.get("comparator", {}), **IMPOSSIBLE[kind]}
    return task


def plant_zeroed(directory: Path, task: TaskSpec) -> TaskSpec:
    case = directory / "case"
    samples = list((case / "postProcessing").rglob("*.xy")) if (case / "postProcessing").is_dir() else []
    for path in samples:
        path.write_text(_zero_numbers(path.read_text()))
    latest = latest_time(case)
    if not samples and latest is not None:
        shear = latest[1] / "wallShearStress"
        text = shear.read_text()
        head, _, boundary = text.partition("boundaryField")
        shear.write_text(head + "boundaryField" + _zero_numbers(boundary))
    return task


def plant_truncated(directory: Path, task: TaskSpec) -> TaskSpec:
    case = directory / "case"
    latest = latest_time(case)
    assert latest is not None
    shutil.rmtree(latest[1])
    log = next(case.glob("log.*Foam"))
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[: int(len(lines) * 0.6)]) + "\n")
    return task


PLANTS: dict[str, Callable[[Path, TaskSpec], TaskSpec]] = {
    "deleted-deliverable": plant_deleted,
    "impossible-target": plant_impossible,
    "zeroed-postprocessing": plant_zeroed,
    "truncated-history": plant_truncated,
}


def judge(
    workload: CfdWorkload,
    task: TaskSpec,
    spec: ExperimentSpec,
    directory: Path,
    outcome: ExperimentOutcome,
    gates: list[str],
    rerun: bool,
) -> str:
    factory = lambda where: LocalSandbox(workdir=where)  # noqa: E731
    results = []
    for name in gates:
        gate = get_gate(name)
        if gate.needs_run and not rerun:
            continue
        context = GateContext(
            task=task,
            experiment=spec,
            directory=directory,
            outcome=outcome,
            options=dict(task.gate_options.get(name, {})),
            sandbox_factory=factory,
            rerun=(lambda extra, where: workload.run(task, extra, where, factory)) if rerun else None,
            prior=list(results),
        )
        results.append(run_gate(gate, context))
    return combine_decisions([result.decision for result in results])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rerun", action="store_true", help="include the gates that run new cases")
    parser.add_argument("--keep", type=Path, help="keep the cases in this directory")
    args = parser.parse_args()
    workload = CfdWorkload()
    catalog = {task.id: task for task in workload.tasks()}
    root = args.keep or Path(tempfile.mkdtemp(prefix="labgate-planted-"))
    rows = []
    start = time.perf_counter()
    try:
        for flow, (task_id, params, overrides) in FLOWS.items():
            task = catalog[task_id].model_copy(deep=True)
            task.params = {k: v for k, v in task.params.items() if k != "search"} | params
            task.sweep = {}
            for gate, options in overrides.items():
                task.gate_options[gate] = {**task.gate_options.get(gate, {}), **options}
            spec = ExperimentSpec(key="base", task_id=task.id, params=dict(task.params))
            base = root / flow.replace(" ", "-") / "run"
            base.mkdir(parents=True, exist_ok=True)
            outcome = workload.run(task, spec, base, lambda where: LocalSandbox(workdir=where))
            print(f"{flow}: ran in {time.perf_counter() - start:.0f} s ({outcome.status})", flush=True)
            for variant in ["control", *PLANTS]:
                directory = base.parent / variant
                shutil.copytree(base, directory, dirs_exist_ok=True)
                judged_task = task if variant == "control" else PLANTS[variant](directory, task)
                solver_only = judge(workload, judged_task, spec, directory, outcome, ["solver-log"], False)
                every = judge(workload, judged_task, spec, directory, outcome, judged_task.gates, args.rerun)
                rows.append((flow, variant, solver_only, every))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'flow':15s} {'variant':24s} {'solver-log only':16s} {'all gates':10s}")
    for flow, variant, solver_only, every in rows:
        print(f"{flow:15s} {variant:24s} {solver_only:16s} {every:10s}")
    planted = [row for row in rows if row[1] != "control"]
    controls = [row for row in rows if row[1] == "control"]
    print(f"({time.perf_counter() - start:.0f} s; gates needing new runs {'included' if args.rerun else 'skipped'})")
    print(
        json.dumps(
            {
                "planted": len(planted),
                "caught_solver_only": sum(1 for row in planted if row[2] != "accept"),
                "caught_all_gates": sum(1 for row in planted if row[3] != "accept"),
                "false_alarms": sum(1 for row in controls if row[3] != "accept"),
                "controls": len(controls),
            }
        )
    )


if __name__ == "__main__":
    main()
