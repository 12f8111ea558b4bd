"""The periodic-hill coefficient search at full size: in-sample gain beside the held-out verdicts.

Two runs through `agent run`:
  search   the catalog task cfd/periodic-hill: the calibrated model, then CMA-ES candidates over the
           Spalart-Allmaras coefficients, each judged by every gate including the held-out physics gate
  planted  one hand-made over-fit: Cb1 at 2.25x its calibrated value, no search, the same gates
For every experiment the script prints the Cf RMSE against the DNS (the search metric), the gain over
the calibrated model, and the held-out verdict (velocity profiles, reattachment, flat plate), then one
JSON line. Expect about 15 minutes on 2 quiet cores (each 120x80 case takes ~50 s, plus the held-out
baseline and flat-plate runs).

Usage: .venv/bin/python bench/hill_search.py [--runs 8]
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
from tools.cfd.cases._rans import SACoefficients

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
        changed = {name: round(value / defaults[name], 2) for name, value in sa.items() if value != defaults[name]}
        table.append(
            {
                "experiment": experiment.key,
                "changed_x_default": changed,
                "cf_rmse": comparator.metrics.get("cf_rmse") if comparator else None,
                "decision": experiment.decision,
                "held_out": held_out.decision if held_out else None,
                "held_out_reasons": held_out.reasons if held_out else [],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8, help="candidates the search may evaluate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labgate-hill-") as root:
        home = Path(root) / "home"
        start = time.perf_counter()
        task = Path(root) / "search.yaml"
        task.write_text(
            "extends: cfd/periodic-hill\n"
            f"params: {{search: {{runs: {args.runs}, population: 2}}}}\n"
            f"budget: {{experiments: {args.runs + 2}, iterations: {args.runs + 2}}}\n"
        )
        search = agent_run(home, str(task))
        search_seconds = time.perf_counter() - start
        table = rows(home, search["run_id"])
        baseline = next((r["cf_rmse"] for r in table if r["experiment"] == "default"), None)
        show(f"search ({search_seconds:.0f} s, {search['status']})", table, baseline)

        planted_task = Path(root) / "planted.yaml"
        cb1 = round(2.25 * SACoefficients().Cb1, 5)
        planted_task.write_text(f"extends: cfd/periodic-hill\nparams: {{search: null, sa: {{Cb1: {cb1}}}}}\n")
        planted = agent_run(home, str(planted_task))
        planted_rows = rows(home, planted["run_id"])
        show(f"planted over-fit: Cb1 = {cb1} (2.25x), {planted['status']}", planted_rows, baseline)

    candidates = [r for r in table if r["experiment"] != "default" and r["cf_rmse"] is not None]
    best = min(candidates, key=lambda r: r["cf_rmse"]) if candidates else None
    planted_row = planted_rows[0] if planted_rows else {}
    print(
        json.dumps(
            {
                "benchmark": "hill_search",
                "default_cf_rmse": baseline,
                "candidates": len(candidates),
                "best_in_sample": None
                if best is None or baseline is None
                else {
                    "experiment": best["experiment"],
                    "cf_rmse": best["cf_rmse"],
                    "gain_percent": round(100 * (baseline - best["cf_rmse"]) / baseline, 2),
                    "held_out": best["held_out"],
                },
                "accepted": [r["experiment"] for r in table if r["decision"] == "accept"],
                "planted_cb1": {
                    "cf_rmse": planted_row.get("cf_rmse"),
                    "gain_percent": None
                    if not baseline or planted_row.get("cf_rmse") is None
                    else round(100 * (baseline - planted_row["cf_rmse"]) / baseline, 2),
                    "held_out": planted_row.get("held_out"),
                },
                "search_seconds": round(search_seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
