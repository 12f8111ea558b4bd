"""A run is named on the command line by its id or a unique beginning of it, and `agent runs` shows it whole.

In an 80-column terminal `agent runs` cut the id to `20261202-120515-…`, which `show`, `resume` and
`cancel` then refused as "no run": the id a user could see was not one they could give.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from runs import RunStore, TaskSpec
from tests.conftest import agent

SPEC = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})


def _runs(home: Path, count: int) -> list[str]:
    store = RunStore(home)
    return [store.create_run(SPEC).id for _ in range(count)]


def test_a_unique_beginning_of_an_id_names_the_run(home: Path) -> None:
    (run_id,) = _runs(home, 1)
    shown = agent("show", run_id[:15], "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    assert f'"run_id": "{run_id}"' in shown.stdout
    cut = agent("show", run_id[:16] + "…", home=home)  # as copied from a table that cut it
    assert cut.returncode == 0 and run_id in cut.stdout, cut.stderr
    cancelled = agent("cancel", run_id[:12], home=home)
    assert cancelled.returncode == 0 and f"run {run_id} cancelled" in cancelled.stdout, cancelled.stderr
    assert RunStore(home).get_run(run_id).status == "cancelled"


def test_a_beginning_that_fits_several_runs_or_none_is_refused(home: Path) -> None:
    first, second = _runs(home, 2)
    common = first[:9]  # the date and the dash: both runs
    assert second.startswith(common)
    both = agent("show", common, home=home)
    assert both.returncode == 2
    assert "several runs" in both.stderr and first in both.stderr and second in both.stderr
    for given in (first[:3], "x%", "2026%", "____", first + "0"):  # too short, patterns, a longer id
        refused = agent("show", given, home=home)
        assert refused.returncode == 2 and "no run with id" in refused.stderr, (given, refused.stderr)


def test_the_runs_table_shows_whole_ids_in_a_narrow_terminal(home: Path) -> None:
    ids = _runs(home, 2)
    listed = agent("runs", home=home, env={"COLUMNS": "60"})
    assert listed.returncode == 0, listed.stderr
    assert all(run_id in listed.stdout for run_id in ids), listed.stdout


def test_a_running_run_whose_process_is_gone_reads_stopped(home: Path) -> None:
    """After a Ctrl-C or a kill the store keeps the run `running` (so that `agent resume` takes it); the
    table and `show` say it is stopped, while a run whose process lives reads running."""
    gone, alive = _runs(home, 2)
    store = RunStore(home)
    for run_id, pid in ((gone, 2**22 + 991), (alive, os.getpid())):
        store.set_status(run_id, "running")
        store.update_run(run_id, worker=f"{socket.gethostname()}:{pid}")
    listed = agent("runs", home=home, env={"COLUMNS": "120"})
    rows = {line.split()[0]: line.split()[2] for line in listed.stdout.splitlines()[1:] if line.strip()}
    assert rows == {gone: "stopped", alive: "running"}, listed.stdout
    assert f"run {gone} cfd/cavity: stopped" in agent("show", gone, home=home).stdout
    assert '"status": "stopped"' in agent("show", gone, "--json", home=home).stdout  # as the table says
    assert RunStore(home).get_run(gone).status == "running"  # the record is unchanged (resume takes it)
