"""What the terminal shows: brackets in messages print as written, and a paused run shows its plan."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from api._progress import LiveReporter
from runs import RunStore, TaskSpec
from tests.conftest import agent


def test_live_display_prints_brackets_as_written() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with LiveReporter(console) as reporter:
        reporter.event("decision", "cuda: install it with pip install -e '.[cuda]' [bold]x[/bold]", {})
    text = out.getvalue()
    assert "pip install -e '.[cuda]' [bold]x[/bold]" in text


def _paused_run(home: Path) -> str:
    store = RunStore(home)
    run = store.create_run(TaskSpec(id="cfd/cavity", workload="cfd", title="cavity [demo]"))
    planned = [{"key": "re=100", "params": {"re": 100, "cells": 16}, "rationale": "the [Ghia] benchmark"}]
    store.emit(run.id, "plan", "planned 1 experiment(s)", {"keys": ["re=100"], "planned": planned})
    store.set_status(run.id, "paused", f"waiting for plan approval: agent approve {run.id} [now]")
    store.engine.dispose()
    return str(run.id)


def test_show_on_a_paused_run_shows_the_plan(home: Path) -> None:
    run_id = _paused_run(home)
    shown = agent("show", run_id, home=home)
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())  # rich wraps long lines at the terminal width
    assert "plan (1 experiments, none run yet):" in text
    assert "re=100: cells=16, re=100 — the [Ghia] benchmark" in text
    assert f"agent approve {run_id} [now]" in text
    detail = json.loads(agent("show", run_id, "--json", home=home).stdout)
    assert detail["plan"][0]["key"] == "re=100" and detail["status"] == "paused"
