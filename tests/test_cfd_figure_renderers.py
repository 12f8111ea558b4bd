"""Figures drawn in renderer processes: the same PNGs as drawn in-thread, all on disk when a case's
block ends, failures raised to the caller, a dead renderer replaced by drawing here.

Renderers serve experiment threads (the local executor's); each test draws from such a thread.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from tools.cfd import _draw, _render_pool
from tools.cfd._render import render_field_panels, render_profile_comparison, render_residuals
from tools.cfd._render_pool import figures_together
from tools.cfd._renderer import serve
from tools.cfd.cases._reference import ghia_profiles
from tools.cfd.openfoam._logs import SolverLog

PNG = b"\x89PNG\r\n\x1a\n"
T = TypeVar("T")


def in_an_experiment_thread(action: Callable[[], T]) -> T:
    with ThreadPoolExecutor(1, thread_name_prefix="experiment") as threads:
        return threads.submit(action).result()


def _log() -> SolverLog:
    times = [0.01 * step for step in range(1, 60)]
    residuals = {field: [(t, 10.0 ** (-t * 5 - offset)) for t in times] for offset, field in enumerate(("Ux", "p"))}
    return SolverLog(times=times, residuals=residuals)


def _fields() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    xs = np.linspace(0.0, 0.1, 12)
    ys = np.linspace(0.0, 0.1, 12)
    gx, gy = np.meshgrid(xs, ys)
    velocity = np.stack([np.sin(gy * 30), -np.sin(gx * 30), np.zeros_like(gx)], axis=-1)
    return xs, ys, velocity, np.cos(gx * 20) * np.cos(gy * 20)


@pytest.fixture(autouse=True)
def renderers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two renderers of this test's own, closed afterwards."""
    monkeypatch.setenv(_render_pool.PROCESSES_VARIABLE, "2")
    monkeypatch.setattr(_render_pool, "_pool", None)
    yield
    pool = _render_pool._pool
    if pool is not None:
        pool.close()


@pytest.mark.slow
def test_a_renderer_draws_the_same_png_as_this_process(tmp_path: Path) -> None:
    xs, ys, velocity, pressure = _fields()
    options: dict[str, Any] = {"title": "cavity, Re = 100", "velocity_scale": 1.0, "length_scale": 0.1}

    def case() -> None:
        with figures_together():
            render_field_panels(tmp_path / "fields.png", xs, ys, velocity, pressure, **options)
            render_residuals(tmp_path / "residuals.png", _log(), title="residual history")

    in_an_experiment_thread(case)
    _draw.field_panels(tmp_path / "fields-here.png", xs, ys, velocity, pressure, **options)
    _draw.residuals(tmp_path / "residuals-here.png", _log(), title="residual history")
    for name in ("fields", "residuals"):
        drawn = (tmp_path / f"{name}.png").read_bytes()
        assert drawn.startswith(PNG)
        assert drawn == (tmp_path / f"{name}-here.png").read_bytes()
    assert _render_pool._pool is not None and _render_pool._pool.started  # it was a renderer that drew


def test_reference_profiles_travel_as_plain_data(tmp_path: Path) -> None:
    u_ref, v_ref = ghia_profiles(100)
    panels = [
        ("u/U at x/L = 0.5", u_ref.coordinate, u_ref.value * 0.9, u_ref, "y / L", "u / U"),
        ("v/U at y/L = 0.5", v_ref.coordinate, v_ref.value * 0.9, v_ref, "x / L", "v / U"),
    ]
    in_an_experiment_thread(
        lambda: render_profile_comparison(tmp_path / "centrelines.png", panels, title="centrelines")
    )
    assert _render_pool._pool is not None
    assert (tmp_path / "centrelines.png").read_bytes().startswith(PNG)


def test_a_failed_figure_is_raised_when_the_block_ends_after_the_others_are_drawn(tmp_path: Path) -> None:
    def case() -> None:
        with figures_together():
            render_residuals(tmp_path / "missing-directory" / "residuals.png", _log(), title="lost")
            render_residuals(tmp_path / "residuals.png", _log(), title="kept")

    with pytest.raises(FileNotFoundError):
        in_an_experiment_thread(case)
    assert (tmp_path / "residuals.png").read_bytes().startswith(PNG)


def test_the_blocks_own_error_wins_and_its_figures_are_still_waited_for(tmp_path: Path) -> None:
    def case() -> None:
        with figures_together():
            render_residuals(tmp_path / "residuals.png", _log(), title="drawn before the failure")
            raise KeyError("analysis failed")

    with pytest.raises(KeyError):
        in_an_experiment_thread(case)
    assert (tmp_path / "residuals.png").read_bytes().startswith(PNG)


def test_a_dead_renderer_is_replaced_by_drawing_here(tmp_path: Path) -> None:
    in_an_experiment_thread(lambda: render_residuals(tmp_path / "first.png", _log(), title="by a renderer"))
    pool = _render_pool._pool
    assert pool is not None and len(pool.started) == 1
    os.kill(pool.started[0].pid, signal.SIGKILL)
    in_an_experiment_thread(lambda: render_residuals(tmp_path / "residuals.png", _log(), title="after a crash"))
    assert pool.started == []  # the dead renderer it met was dropped ...
    assert (tmp_path / "residuals.png").read_bytes().startswith(PNG)  # ... and the figure drawn here
    in_an_experiment_thread(lambda: render_residuals(tmp_path / "again.png", _log(), title="a new renderer"))
    assert len(pool.started) == 1 and (tmp_path / "again.png").read_bytes().startswith(PNG)


def _children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = status.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(status.parent.name))
    return found


def test_renderers_are_forks_of_one_zygote_and_end_with_it(tmp_path: Path) -> None:
    """Two figures at once: two renderers, both children of the one process that imported matplotlib;
    closing the pool ends the zygote and every renderer it forked."""

    def case() -> None:
        with figures_together():
            for index in range(4):
                render_residuals(tmp_path / f"residuals-{index}.png", _log(), title=f"figure {index}")

    in_an_experiment_thread(case)
    pool = _render_pool._pool
    assert pool is not None and pool.zygote is not None
    renderers = {renderer.pid for renderer in pool.started}
    assert len(renderers) == 2, "four figures at once on two renderers"
    zygote = pool.zygote.process
    assert renderers <= _children(zygote.pid)
    pool.close()
    assert zygote.poll() is not None
    assert not [pid for pid in renderers if Path(f"/proc/{pid}").exists()]


def test_the_zygote_refuses_a_bad_command_line() -> None:
    result = subprocess.run(
        [sys.executable, str(_render_pool.RENDERER), "--zygote", "x"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "usage" in result.stderr


def test_without_renderers_figures_are_drawn_in_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_render_pool.PROCESSES_VARIABLE, "0")
    assert not in_an_experiment_thread(_render_pool.start_renderers)

    def case() -> None:
        with figures_together():
            render_residuals(tmp_path / "residuals.png", _log(), title="here")

    in_an_experiment_thread(case)
    assert (tmp_path / "residuals.png").read_bytes().startswith(PNG)
    assert _render_pool._pool is None


def test_the_main_thread_draws_itself(tmp_path: Path) -> None:
    """One experiment per process (a Ray worker's task, `check-case`): no renderer is started."""
    assert not _render_pool.start_renderers()
    with figures_together():
        render_residuals(tmp_path / "residuals.png", _log(), title="here")
    assert (tmp_path / "residuals.png").read_bytes().startswith(PNG)
    assert _render_pool._pool is None


def test_a_renderer_draws_only_its_drawing_functions(tmp_path: Path) -> None:
    requests = io.BytesIO(
        pickle.dumps(("pyplot", (), {})) + pickle.dumps(("residuals", (tmp_path / "r.png", _log()), {"title": "t"}))
    )
    answers = io.BytesIO()
    serve(_draw, requests, answers)
    answers.seek(0)
    refused, drawn = pickle.load(answers), pickle.load(answers)
    assert isinstance(refused, ValueError) and "not a drawing function" in str(refused)
    assert drawn is None and (tmp_path / "r.png").read_bytes().startswith(PNG)


def test_a_run_on_the_local_executor_starts_the_zygote_before_planning(tmp_path: Path) -> None:
    """From the run's main thread, the CFD workload's warm-up starts the zygote (its experiments will
    run in threads), so matplotlib is imported while the run starts, not beside the first solvers."""
    from runs import TaskSpec
    from tools.cfd import CfdWorkload

    task = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})
    CfdWorkload().warm_up(task)
    pool = _render_pool._pool
    assert pool is not None and pool.zygote is not None and pool.zygote.process.poll() is None
    assert pool.started == []  # renderers are forked only when figures come
    in_an_experiment_thread(lambda: render_residuals(tmp_path / "residuals.png", _log(), title="first figure"))
    assert [renderer.pid for renderer in pool.started] and pool.zygote is not None
    assert {renderer.pid for renderer in pool.started} <= _children(pool.zygote.process.pid)
