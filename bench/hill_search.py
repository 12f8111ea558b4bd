"""The periodic-hill search at full size: default SA, the best coefficient-only candidate and the best
model-form candidate, side by side.

Three runs through `agent run`:
  coefficients  the catalog task cfd/periodic-hill: the calibrated model, then CMA-ES candidates over the
                Spalart-Allmaras coefficients, each judged by every gate including the held-out physics gate
                (hill profiles and reattachment, flat plate, backward-facing step)
  form          the same task with params.search.family = form: CMA-ES over the compiled correction family
                (tools/cfd/models/SAcorrected.C: production, destruction and eddy-viscosity multipliers as
                functions of local features, forms and coefficients read at run time, compiled once)
  planted       one hand-made over-fit: Cb1 at 2.25x its calibrated value, no search, the same gates
For every experiment the script prints the Cf RMSE against the DNS (the search metric), the gain over
the calibrated model and the held-out verdict; then the three-way comparison against the goal (in-sample
gain >= 7.89 %, every held-out check passing, reattachment at least halfway from the default's toward the
DNS's 4.62h) and one JSON line. Each 120x80 case takes ~50 s on 2 quiet cores; the form family compiles
once (~20 CPU-s, then cached). --cells 60x40 runs a reduced version (say so when reporting it).

Usage: .venv/bin/python bench/hill_search.py [--runs 8] [--form-runs 8] [--cells 120x80] [--skip-planted]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from runs import RunStore
from tools.cfd import HILL_DNS_REATTACHMENT, SACoefficients

GOAL_GAIN = 0.0789
REPO = Path(__file__).resolve().parent.parent


def agent_run(home: Path, target: str, *extra: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "run", target, "--json", *extra],
        cwd=REPO,
        env={**os.environ, "LABGATE_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    if not result.stdout.strip():
        raise RuntimeError(f"agent run {target} printed nothing: {result.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def rows(home: Path, run_id: str) -> list[dict[str, Any]]:
    store = RunStore(home)
    table = []
    for experiment in store.experiments(run_id):
        verdicts = {v.gate: v for v in store.verdicts(run_id, experiment.id)}
        comparator = verdicts.get("comparator")
        held_out = verdicts.get("held-out")
        sa = experiment.params.get("sa") or {}
        defaults = SACoefficients().model_dump()
        changed = {
            name: round(value / defaults[name], 2) if defaults[name] else round(value, 3)
            for name, value in sa.items()
            if name != "source" and value != defaults.get(name)
        }
        if sa.get("source"):
            changed["source"] = "own C++"
        table.append(
            {
                "experiment": experiment.key,
                "changed_x_default": changed,
                "cf_rmse": comparator.metrics.get("cf_rmse") if comparator else None,
                "decision": experiment.decision,
                "held_out": held_out.decision if held_out else None,
                "held_out_reasons": held_out.reasons if held_out else [],
                "held_out_metrics": dict(held_out.metrics) if held_out else {},
                "rationale": experiment.rationale,
            }
        )
    return table


def show(title: str, table: list[dict[str, Any]], baseline: float | None) -> None:
    print(f"\n{title}")
    print(f"{'experiment':14s} {'Cf RMSE':>9s} {'gain':>7s}  {'held-out':8s} {'decision':8s} changed (x default)")
    for row in table:
        rmse = row["cf_rmse"]
        gain = f"{100 * (baseline - rmse) / baseline:+6.1f}%" if rmse is not None and baseline else "      -"
        shown = f"{rmse:.5f}" if rmse is not None else "-"
        print(
            f"{row['experiment']:14s} {shown:>9s} {gain:>7s}  {row['held_out'] or '-':8s} "
            f"{row['decision'] or '-':8s} {row['changed_x_default'] or 'calibrated'}"
        )
        for reason in row["held_out_reasons"]:
            print(f"{'':16s}{reason}")


def search(root: Path, home: Path, name: str, runs: int, cells: tuple[int, int], family: str) -> list[dict[str, Any]]:
    task = root / f"{name}.yaml"
    task.write_text(
        "extends: cfd/periodic-hill\n"
        f"params: {{cells_x: {cells[0]}, cells_y: {cells[1]}, "
        f"search: {{runs: {runs}, population: 2, family: {family}}}}}\n"
        f"budget: {{experiments: {runs + 2}, iterations: {runs + 2}}}\n"
    )
    start = time.perf_counter()
    summary = agent_run(home, str(task))
    table = rows(home, summary["run_id"])
    baseline = next((r["cf_rmse"] for r in table if r["experiment"] == "default"), None)
    show(f"{name} search ({time.perf_counter() - start:.0f} s, {summary['status']})", table, baseline)
    return table


def best(table: list[dict[str, Any]], accepted_only: bool = False) -> dict[str, Any] | None:
    """The candidate with the lowest in-sample Cf RMSE among those the held-out gate judged (or accepted).

    Both are shown: the lowest in-sample error is what the search alone would pick, the best accepted one
    is what reaches the write-up, and the goal is about the latter.
    """
    judged = [r for r in table if r["experiment"] != "default" and r["cf_rmse"] is not None and r["held_out_metrics"]]
    if accepted_only:
        judged = [r for r in judged if r["held_out"] == "accept"]
    return min(judged, key=lambda r: r["cf_rmse"]) if judged else None


def verdict_of(row: dict[str, Any] | None, default: dict[str, Any] | None) -> dict[str, Any]:
    if row is None or default is None:
        return {"experiment": None}
    metrics = row["held_out_metrics"]
    base = default["held_out_metrics"]
    gain = (default["cf_rmse"] - row["cf_rmse"]) / default["cf_rmse"]
    reattachment = metrics.get("reattachment")
    start = base.get("reattachment")
    halfway = (
        reattachment is not None
        and start is not None
        and abs(reattachment - HILL_DNS_REATTACHMENT) <= 0.5 * abs(start - HILL_DNS_REATTACHMENT)
    )
    held = [reason for reason in row["held_out_reasons"] if reason.startswith("held-out")]
    return {
        "experiment": row["experiment"],
        "cf_rmse": row["cf_rmse"],
        "gain_percent": round(100 * gain, 2),
        "held_out": row["held_out"],
        "held_out_checks": held,
        "reattachment": reattachment,
        "step_reattachment": metrics.get("step_reattachment"),
        "goal_met": gain >= GOAL_GAIN and row["held_out"] == "accept" and halfway,
        "reattachment_halfway": halfway,
        "changed": row["changed_x_default"],
        "rationale": row["rationale"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8, help="coefficient-only candidates")
    parser.add_argument("--form-runs", type=int, default=8, help="model-form candidates")
    parser.add_argument("--cells", default="120x80", help="hill mesh, e.g. 60x40 for a reduced run")
    parser.add_argument("--skip-planted", action="store_true", help="leave out the planted Cb1 over-fit")
    args = parser.parse_args()
    cells = tuple(int(part) for part in args.cells.split("x"))
    assert len(cells) == 2
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="labgate-hill-") as root_name:
        root = Path(root_name)
        home = root / "home"
        coefficients = search(root, home, "coefficients", args.runs, (cells[0], cells[1]), "coefficients")
        form = search(root, home, "form", args.form_runs, (cells[0], cells[1]), "form")
        planted_rows: list[dict[str, Any]] = []
        if not args.skip_planted:
            planted_task = root / "planted.yaml"
            cb1 = round(2.25 * SACoefficients().Cb1, 5)
            planted_task.write_text(
                "extends: cfd/periodic-hill\n"
                f"params: {{search: null, cells_x: {cells[0]}, cells_y: {cells[1]}, sa: {{Cb1: {cb1}}}}}\n"
            )
            planted = agent_run(home, str(planted_task))
            planted_rows = rows(home, planted["run_id"])
    default = next((r for r in coefficients if r["experiment"] == "default"), None)
    baseline = default["cf_rmse"] if default else None
    if planted_rows:
        show("planted over-fit: Cb1 = 2.25x", planted_rows, baseline)
    side = {
        "default SA": {
            "cf_rmse": baseline,
            "reattachment": default["held_out_metrics"].get("reattachment") if default else None,
            "step_reattachment": default["held_out_metrics"].get("step_reattachment") if default else None,
            "held_out_checks": [r for r in (default or {}).get("held_out_reasons", []) if r.startswith("held-out")],
        },
        "best coefficient-only": verdict_of(best(coefficients), default),
        "best accepted coefficient-only": verdict_of(best(coefficients, accepted_only=True), default),
        "best model-form": verdict_of(best(form), default),
        "best accepted model-form": verdict_of(best(form, accepted_only=True), default),
    }
    print(
        f"\nside by side (hill {cells[0]}x{cells[1]}; goal: gain >= {100 * GOAL_GAIN:.2f} %, held-out all pass, "
        f"reattachment halfway to {HILL_DNS_REATTACHMENT:g}h)"
    )
    for name, entry in side.items():
        rmse = entry.get("cf_rmse")
        print(
            f"  {name:31s} Cf RMSE {rmse if rmse is None else round(rmse, 5)}  "
            f"gain {entry.get('gain_percent', 0.0)} %  x_r/h {entry.get('reattachment')}  "
            f"held-out {entry.get('held_out', '-')}  goal {entry.get('goal_met', '-')}"
        )
        for check in entry.get("held_out_checks", []):
            print(f"      {check}")
    print(
        json.dumps(
            {
                "benchmark": "hill_search",
                "cells": list(cells),
                "default_cf_rmse": baseline,
                "side_by_side": side,
                "accepted_coefficients": [r["experiment"] for r in coefficients if r["decision"] == "accept"],
                "accepted_form": [r["experiment"] for r in form if r["decision"] == "accept"],
                "planted_cb1": planted_rows[0]["held_out"] if planted_rows else None,
                "seconds": round(time.perf_counter() - start, 1),
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
