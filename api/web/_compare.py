"""The compare page: several runs of one task side by side, experiment by experiment.

Parameters, metrics and gate metrics in one table per experiment (rows that differ marked), the
figures of each run next to each other, and the curves the runs share (a table of the same name,
a search's fitness) drawn over one another on one server-rendered SVG plot.
"""

from __future__ import annotations

import json
import math
from typing import Any

from api._detail import run_detail, shown_spec
from api._paths import without_server_paths
from api.web._render import TEXT_LIMIT, line_plot, parse_table
from api.web._searches import entry_index, fitness_of, read_entries
from api.web._views import read_artifact, verdicts_of
from runs import Artifact, RunStore


def compare_page(store: RunStore, run_ids: list[str]) -> dict[str, Any]:
    """Parameters and metrics of several runs side by side, experiment by experiment."""
    details = [without_server_paths(run_detail(store, run_id), store.home, store.run_dir(run_id)) for run_id in run_ids]
    for detail in details:
        detail["spec"] = shown_spec(detail["spec"])  # a run that failed before its task loaded stored `{}`
    keys: list[str] = []
    for detail in details:
        for experiment in detail["experiments"]:
            if experiment["key"] not in keys:
                keys.append(experiment["key"])
    sections = []
    for key in keys:
        cells = [next((e for e in d["experiments"] if e["key"] == key), None) for d in details]
        verdicts = [verdicts_of(e) if e else [] for e in cells]
        params = sorted({name for e in cells if e for name in e["params"]})
        metrics = sorted({name for e in cells if e for name in e["metrics"]})
        verdict_metrics = sorted({f"{v.gate}.{m}" for judged in verdicts for v in judged for m in v.metrics})
        rows: list[tuple[str, str, list[Any]]] = []
        rows.append(("result", "decision", [e["decision"] or e["status"] if e else None for e in cells]))
        rows += [("parameter", name, [e["params"].get(name) if e else None for e in cells]) for name in params]
        rows += [("metric", name, [e["metrics"].get(name) if e else None for e in cells]) for name in metrics]
        for name in verdict_metrics:
            gate, metric = name.split(".", 1)
            values = []
            for judged in verdicts:
                found = [v.metrics.get(metric) for v in judged if v.gate == gate]
                values.append(found[-1] if found else None)
            rows.append(("gate", name, values))
        sections.append(
            {
                "key": key,
                "rows": rows,
                "differs": [len({json.dumps(v) for v in r[2]}) > 1 for r in rows],
                "figures": _figures_side_by_side(details, cells),
                "overlays": _overlays(store, details, cells),
            }
        )
    return {"runs": details, "sections": sections}


def _short(name: str) -> str:
    return name.split("/", 1)[-1] if "/" in name else name


def _outputs(detail: dict[str, Any], experiment: dict[str, Any] | None) -> list[dict[str, Any]]:
    if experiment is None:
        return []
    return [a for a in detail["artifacts"] if a["experiment_id"] == experiment["id"]]


def _figures_side_by_side(details: list[dict[str, Any]], cells: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """One row per figure name an experiment has in any run: that figure of each run, in the runs' order."""
    names: list[str] = []
    by_run: list[dict[str, str]] = []
    for detail, cell in zip(details, cells, strict=True):
        figures = {_short(a["name"]): a["sha256"] for a in _outputs(detail, cell) if a["kind"] == "image"}
        by_run.append(figures)
        names += [name for name in figures if name not in names]
    return [{"name": name, "shas": [figures.get(name) for figures in by_run]} for name in names]


OVERLAY_COLUMNS = 3
"""Curves per shared table: its first column against each of the next ones, at most this many."""


def _overlays(
    store: RunStore, details: list[dict[str, Any]], cells: list[dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """Curves of the same table (a profile, a residual history) or search log (fitness) drawn over one another."""
    tables: dict[str, list[tuple[str, list[str], list[list[float]]]]] = {}
    fitness: list[tuple[str, list[tuple[float, float]]]] = []
    for detail, cell in zip(details, cells, strict=True):
        for record in _outputs(detail, cell):
            if record["kind"] == "table" and record["size"] <= 4 * TEXT_LIMIT:
                header, rows, _ = parse_table(read_artifact(store, record["sha256"], TEXT_LIMIT))
                numbers = [[float(v) for v in row] for row in rows if row and all(_is_float(v) for v in row)]
                if numbers and len(numbers[0]) >= 2:
                    tables.setdefault(_short(record["name"]), []).append((detail["run_id"], header, numbers))
            elif record["name"].endswith(".jsonl") and record["kind"] == "log":
                entries = read_entries(store, _artifact_of(record))
                points = [
                    (float(entry_index(e, i)), f) for i, e in enumerate(entries) if (f := fitness_of(e)) is not None
                ]
                if points:
                    best, so_far = float("-inf"), []
                    for x, y in points:
                        best = max(best, y)
                        so_far.append((x, best))
                    fitness.append((detail["run_id"], so_far))
    plots = []
    for name, found in tables.items():
        if len(found) < 2:
            continue
        header = found[0][1]
        width = min(len(row) for _, _, numbers in found for row in numbers)  # a ragged table draws its common columns
        for column in range(1, min(width, OVERLAY_COLUMNS + 1)):
            x_label = header[0] if len(header) > column else "column 1"
            y_label = header[column] if len(header) > column else f"column {column + 1}"
            series = [(run_id, [(row[0], row[column]) for row in numbers]) for run_id, _, numbers in found]
            title = f"{name}: {y_label} against {x_label}, one curve per run"
            plots.append(
                {"name": name, "plot": line_plot(series, title=title, x_label=x_label, y_label=y_label), "title": title}
            )
    if len(fitness) >= 2:
        title = "best fitness so far over the search, one curve per run"
        plots.append(
            {
                "name": "fitness",
                "plot": line_plot(fitness, title=title, x_label="evaluation", y_label="best fitness"),
                "title": title,
            }
        )
    return plots


def _is_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _artifact_of(record: dict[str, Any]) -> Artifact:
    return Artifact(
        run_id="",
        kind=record["kind"],
        name=record["name"],
        sha256=record["sha256"],
        size=record["size"],
        media_type=record["media_type"],
        experiment_id=record["experiment_id"],
    )
