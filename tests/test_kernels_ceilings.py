"""The ceilings kernels are scored against and the floor that catches impossible timings.

Two bandwidths per working set: the triad (a separate output, the yardstick for every task's kernel)
and the in-place update (faster on CPUs: no write-allocate), which only the physics floor may use.
"""

from __future__ import annotations

import json
import stat
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools.kernels import SUITE, Worker, ceilings_record
from tools.kernels._ceilings import FMA_REFRESH_SECONDS, Ceilings
from tools.kernels._harness import Harness, _bandwidth_probe, ceiling_beside
from tools.kernels._physics import impossible
from tools.kernels._probes import bandwidth_probes
from tools.kernels._task import BufferSpec, HostProgram, Size, Work, with_params
from tools.kernels._worker import make_backend
from tools.kernels.suite._heat2d import Heat2d


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
        return {"ok": True, "gbps": 20.0, "update_gbps": 30.0, "triad_width": 4, "update_width": 16}, {}


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
    assert set(rates) == {"triad", "update", "triad_width", "update_width"}
    assert rates["triad"] > 0.1 and rates["update"] > 0.1, rates
    assert {rates["triad_width"], rates["update_width"]} <= {1.0, 4.0, 16.0}, rates


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


def _cache_with_peak(folder: Path, gflops: float, measured_at: float | None) -> None:
    """A cache holding every rate of working set 1 MiB, and an FMA peak measured at `measured_at`."""
    size = str(1 << 20)
    entry: dict[str, Any] = {"device": {}, "fma_gflops": gflops, "triad_gbps": {size: 20.0}}
    entry |= {"update_gbps": {size: 30.0}, "triad_width": {size: 4}, "update_width": {size: 16}}
    if measured_at is not None:
        entry["fma_measured_at"] = measured_at
    (folder / "ceilings-v2.json").write_text(json.dumps({"test-device": entry}))


@pytest.mark.parametrize(
    ("cached", "age", "expected"),
    [
        (80.0, FMA_REFRESH_SECONDS + 1, 100.0),  # stale and lower: the new measurement stands
        (150.0, FMA_REFRESH_SECONDS + 1, 150.0),  # stale, higher than a busy moment's: the peak stays
        (250.0, FMA_REFRESH_SECONDS + 1, 100.0),  # over twice the peak measured now: another machine's, or planted
        (1e300, FMA_REFRESH_SECONDS + 1, 100.0),
        (80.0, None, 100.0),  # from before peaks were dated
        (80.0, -10 * FMA_REFRESH_SECONDS, 100.0),  # dated in the future: a clock set back, or a planted cache
    ],
)
def test_the_fma_peak_is_measured_again_after_a_while_and_the_highest_is_kept(
    tmp_path: Path, cached: float, age: float | None, expected: float
) -> None:
    """A peak measured once under load and kept for good flattered every compute-bound fraction after it."""
    _cache_with_peak(tmp_path, cached, None if age is None else time.time() - age)
    worker = CountingWorker()  # its FMA probe answers 100 GFLOP/s
    assert Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])["fma_gflops"] == expected
    assert [request["op"] for request in worker.requests] == ["fma"]
    stored = json.loads((tmp_path / "ceilings-v2.json").read_text())["test-device"]
    assert stored["fma_gflops"] == expected and 0 <= time.time() - stored["fma_measured_at"] < 60
    Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])
    assert len(worker.requests) == 1, "a peak measured within the hour is read from the cache"


def test_a_fresh_peak_is_not_measured_again(tmp_path: Path) -> None:
    _cache_with_peak(tmp_path, 80.0, time.time() - 60)
    worker = CountingWorker()
    assert Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])["fma_gflops"] == 80.0
    assert worker.requests == []


@pytest.mark.parametrize("width", [None, 5, "16", True, 0])
def test_a_cache_without_a_usable_probe_width_is_measured_again(tmp_path: Path, width: Any) -> None:
    """The yardstick runs the probe at its best width: a cache from before widths were kept (or with a
    width OpenCL has no vector of) measures that working set again instead of guessing one."""
    size = str(1 << 20)
    entry: dict[str, Any] = {"device": {}, "fma_gflops": 100.0, "fma_measured_at": time.time()}
    entry |= {"triad_gbps": {size: 20.0}, "update_gbps": {size: 30.0}}
    if width is not None:
        entry |= {"triad_width": {size: width}, "update_width": {size: 4}}
    (tmp_path / "ceilings-v2.json").write_text(json.dumps({"test-device": entry}))
    worker = CountingWorker()
    ceilings = Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])
    assert [r["op"] for r in worker.requests] == ["triad"]
    assert ceilings["triad_width"] == {1 << 20: 4} and ceilings["update_width"] == {1 << 20: 16}
    Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])
    assert len(worker.requests) == 1, "the widths were cached with the rates"


class PaddedHeat2d(Heat2d):
    """A heat2d whose host gives a candidate with a wider LX a large scratch buffer it never has to touch."""

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        program = super().host(size, params)
        if params.get("LX", 0) < 64:
            return program
        return replace(program, buffers=(*program.buffers, BufferSpec("pad", "float32", 16 << 20, "scratch")))


class RecordingWorker:
    """The real worker, with every request it is sent kept for the test to read."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.sent: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []

    def request(self, request: dict[str, Any], arrays: dict[str, Any], timeout: float) -> tuple[dict[str, Any], Any]:
        self.sent.append(request)
        reply, raw = self.worker.request(request, arrays, timeout)
        self.replies.append(reply)
        return reply, raw


@pytest.mark.opencl
def test_bandwidth_fractions_are_of_the_probe_measured_beside_the_candidate(tmp_path: Path) -> None:
    """The probe runs in the candidate's own request, prepared as its runs are; the fraction is of the
    median the harness measured that way, the cached figure stays beside it; a candidate's parameters
    that add buffers do not move the working set the probe runs at."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    task = PaddedHeat2d()
    size = task.sizes[0]
    with Worker(_sandbox, tmp_path / "worker") as real:
        ceilings = Ceilings(tmp_path / "cache").for_device(real, [Harness.working_set(task, size)])
        # An FMA peak measured on a busy machine can be low enough for the roofline to call this heat2d
        # compute-bound (then no probe runs beside it): a high peak keeps the size bandwidth-bound.
        ceilings = {**ceilings, "fma_gflops": max(float(ceilings["fma_gflops"]), 1e6)}
        # The cached rate is set apart from anything measured (a quiet probe can time the same median
        # twice, giving the very same rate): only then does a ceiling equal to it mean it was not measured.
        working_set = Harness.working_set(task, size)
        cached = float(ceilings["triad_gbps"][working_set]) * 0.37
        ceilings["triad_gbps"] = {**ceilings["triad_gbps"], working_set: cached}
        worker = RecordingWorker(real)
        harness = Harness(task, cast(Worker, worker), ceilings, repeats=3)
        wide = with_params(task.seed, {**task.defaults(), "LX": 64, "LY": 4})
        results, last = [], []
        for source in (task.seed, wide, wide):
            results.append(harness.evaluate(source, sizes=[size], seed=3).sizes[0])
            last.append(len(worker.sent) - 1)  # a size asked again (timed runs that looked skipped): its last reply
    evaluations = [(request, reply) for request, reply in zip(worker.sent, worker.replies, strict=True)]
    sticks = [request["yardstick"] for request, _ in evaluations if request["op"] == "evaluate"]
    expected_stick = {"kernel": "triad", "width": ceilings["triad_width"][working_set], "bytes": working_set}
    assert len(sticks) >= 3 and all(stick == expected_stick for stick in sticks), sticks
    finals = [worker.replies[index] for index in last]
    medians = [reply["yardstick_bytes"] / statistics.median(reply["yardstick_times"]) / 1e9 for reply in finals]
    assert all(len(reply["yardstick_times"]) >= 3 for request, reply in evaluations if request["op"] == "evaluate")
    # Each result's ceiling is the median of every yardstick the harness had measured at that working set.
    expected = [statistics.median(medians[: count + 1]) for count in range(3)]
    assert [result.ceiling_gbps for result in results] == pytest.approx(expected)
    assert ceilings_record(harness)["measured_beside_gbps"] == {
        "triad_gbps": {str(working_set): pytest.approx(expected[-1])}
    }
    for result in results:
        assert result.correct and result.bound == "bandwidth"
        assert result.ceiling_gbps != cached
        assert result.fraction == pytest.approx(result.cached_fraction * cached / result.ceiling_gbps)


class YardstickFailing(RecordingWorker):
    """A trusted worker whose bandwidth yardstick fails (its device went away between two requests)."""

    def request(self, request: dict[str, Any], arrays: dict[str, Any], timeout: float) -> tuple[dict[str, Any], Any]:
        if request["op"] == "yardstick":
            return {"ok": False, "error": "the device is gone"}, {}
        return super().request(request, arrays, timeout)


@pytest.mark.opencl
def test_a_failing_yardstick_in_the_trusted_worker_is_named_as_such_not_as_the_rival(tmp_path: Path) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    task = PaddedHeat2d()
    size = task.sizes[0]
    with Worker(_sandbox, tmp_path / "worker") as real, Worker(_sandbox, tmp_path / "worker-trusted") as trusted:
        ceilings = Ceilings(tmp_path / "cache").for_device(real, [Harness.working_set(task, size)])
        ceilings = {**ceilings, "fma_gflops": max(float(ceilings["fma_gflops"]), 1e6)}  # bandwidth-bound
        harness = Harness(task, real, ceilings, repeats=3, trusted=cast(Worker, YardstickFailing(trusted)))
        evaluation = harness.evaluate(task.seed, sizes=[size], seed=3)
    assert evaluation.status == "crash", evaluation.feedback()
    assert "the bandwidth yardstick, in the trusted worker, failed: the device is gone" in evaluation.message
    assert "rival" not in evaluation.message


def _sandbox(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


@pytest.mark.parametrize(
    "reply",
    [
        {},
        {"yardstick_times": [], "yardstick_bytes": 1000},
        {"yardstick_times": [1e-3, 0.0], "yardstick_bytes": 1000},
        {"yardstick_times": [1e-3, float("nan")], "yardstick_bytes": 1000},
        {"yardstick_times": ["fast"], "yardstick_bytes": 1000},
        {"yardstick_times": [1e-3], "yardstick_bytes": float("inf")},
        {"yardstick_times": None, "yardstick_bytes": 1000},
        {"yardstick_times": [1e-3], "yardstick_bytes": -5},
    ],
)
def test_a_reply_without_a_usable_yardstick_leaves_the_cached_ceiling(reply: dict[str, Any]) -> None:
    assert ceiling_beside(reply) is None


def test_compute_bound_sizes_run_no_yardstick() -> None:
    """nbody is scored against the FMA peak: the bandwidth probe beside it would be time for nothing."""
    task = SUITE["nbody"]
    size = task.sizes[-1]
    working_set = Harness.working_set(task, size)
    ceilings = {
        "fma_gflops": 100.0,
        "triad_gbps": {working_set: 20.0},
        "update_gbps": {working_set: 30.0},
        "triad_width": {working_set: 16},
        "update_width": {working_set: 16},
    }
    assert Harness(task, cast(Worker, None), ceilings)._yardstick(size) is None
    heat = SUITE["heat2d"]
    stick = Harness(heat, cast(Worker, None), {**ceilings, "triad_gbps": {1: 20.0}, "triad_width": {1: 4}})
    assert stick._yardstick(heat.sizes[0]) == {
        "kernel": "triad",
        "width": 4,
        "bytes": Harness.working_set(heat, heat.sizes[0]),
    }
    assert (
        Harness(heat, cast(Worker, None), {k: v for k, v in ceilings.items() if "width" not in k})._yardstick(
            heat.sizes[0]
        )
        is None
    ), "without a cached width the cached ceiling stands"


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


def test_a_cache_another_account_could_write_is_measured_over(tmp_path: Path) -> None:
    """Every fraction and the physics floor divide by the cached rates: rates of 1e300 in a file others could
    write passed a run that did nothing, and rates of 1e-3 rejected every honest kernel."""
    _cache_with_peak(tmp_path, 1e300, time.time() - 60)
    (tmp_path / "ceilings-v2.json").chmod(0o666)
    worker = CountingWorker()
    found = Ceilings(tmp_path).for_device(cast(Worker, worker), [1 << 20])
    assert found["fma_gflops"] == 100.0 and [request["op"] for request in worker.requests] == ["fma", "triad"]
    assert stat.S_IMODE((tmp_path / "ceilings-v2.json").stat().st_mode) & 0o022 == 0  # written anew, ours alone
