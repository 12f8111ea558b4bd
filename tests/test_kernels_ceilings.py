"""The ceilings kernels are scored against and the floor that catches impossible timings.

Two bandwidths per working set: the triad (a separate output, the yardstick for every task's kernel)
and the in-place update (faster on CPUs: no write-allocate), which only the physics floor may use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from tests.conftest import opencl_usable, require_tool
from tools.kernels import SUITE, Worker
from tools.kernels._ceilings import Ceilings
from tools.kernels._harness import _bandwidth_probe
from tools.kernels._physics import impossible
from tools.kernels._probes import bandwidth_probes
from tools.kernels._task import Work
from tools.kernels._worker import make_backend


class CountingWorker:
    """Answers probe requests with fixed rates and counts them, as the sandboxed worker would answer."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def ensure(self) -> dict[str, Any]:
        return {"key": "test-device", "name": "test"}

    def request(self, request: dict[str, Any], arrays: dict[str, Any], timeout: float) -> tuple[dict[str, Any], Any]:
        self.requests.append(request)
        if request["op"] == "fma":
            return {"ok": True, "gflops": 100.0}, {}
        return {"ok": True, "gbps": 20.0, "update_gbps": 30.0}, {}


def test_fractions_use_the_triad_and_the_floor_the_fastest_probe(tmp_path: Path) -> None:
    worker = CountingWorker()
    ceilings = Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20, 1 << 22])
    assert ceilings["triad_gbps"] == {1 << 20: 20.0, 1 << 22: 20.0}
    assert ceilings["update_gbps"] == {1 << 20: 30.0, 1 << 22: 30.0}
    work = Work(bytes=12e6, flops=0.0)
    floor_at_update = 12e6 / 30e9
    # Below a third of the triad's floor, but not of the update's: a real in-place speed, not a cheat.
    assert impossible([floor_at_update / 2.9], work, ceilings) == ""
    assert "faster than physically possible" in impossible([floor_at_update / 3.1], work, ceilings)
    # Measured once: a second harness reads the cache.
    Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])
    assert [r["op"] for r in worker.requests] == ["fma", "triad", "triad"]


def test_a_cache_from_when_one_number_stood_for_both_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "ceilings.json").write_text(
        json.dumps({"test-device": {"device": {}, "fma_gflops": 1.0, "triad_gbps": {str(1 << 20): 999.0}}})
    )
    worker = CountingWorker()
    ceilings = Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])
    assert ceilings["triad_gbps"] == {1 << 20: 20.0}
    assert ceilings["fma_gflops"] == 100.0


def test_both_bandwidth_probes_run_on_the_device() -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    rates = bandwidth_probes(make_backend("opencl"), 1 << 22, repeats=3)
    assert set(rates) == {"triad", "update"}
    assert all(rate > 0.1 for rate in rates.values()), rates


def test_in_place_tasks_are_scored_against_the_update_and_the_others_against_the_triad() -> None:
    """saxpy updates y in place (no write-allocate): against the triad its fraction exceeded 1."""
    ceilings = {"triad_gbps": {1: 20.0}, "update_gbps": {1: 30.0}}
    probes = {}
    for name in ("saxpy", "ising", "heat2d", "nbody", "fft3d"):
        task = SUITE[name]
        probes[name] = _bandwidth_probe(task.host(task.sizes[0], task.defaults()).buffers, ceilings)
    assert probes == {
        "saxpy": "update_gbps",
        "ising": "update_gbps",
        "heat2d": "triad_gbps",
        "nbody": "triad_gbps",
        "fft3d": "triad_gbps",  # its scratch buffer is a separate output
    }
    # A cache without the update figure falls back to the triad.
    saxpy = SUITE["saxpy"]
    buffers = saxpy.host(saxpy.sizes[0], saxpy.defaults()).buffers
    assert _bandwidth_probe(buffers, {"triad_gbps": {}}) == "triad_gbps"


def test_a_cache_folder_that_cannot_be_written_costs_a_measurement_not_the_run(tmp_path: Path) -> None:
    """HOME read-only or missing (a service account): every kernel experiment failed with PermissionError."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    worker = CountingWorker()
    ceilings = Ceilings(cache_dir=blocked / "kernels")
    first = ceilings.for_device(cast(Worker, worker), [1 << 20])
    assert first["fma_gflops"] == 100.0 and first["triad_gbps"][1 << 20] == 20.0
    probes = len(worker.requests)
    ceilings.for_device(cast(Worker, worker), [1 << 20])
    assert len(worker.requests) > probes  # nothing was cached, so it measured again
