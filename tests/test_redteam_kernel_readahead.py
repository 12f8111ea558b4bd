"""A kernel's first run finds no later run's inputs in the worker, and no request repeats another's variants.

On PoCL's CPU device a kernel's loads reach the whole worker process. When one request carried every
run's input variant, a kernel could read them all during the untimed first run, compute every later
answer there, and hand each back at copy speed in the timed runs: correct at every checked run. And a
request on the same seed as an earlier one (a gate's seed then its candidate, finalists re-measured on
one seed, a size asked again) carried the same variants, which a kernel of the earlier request could
have kept anywhere in the process for a later one.

The worker here is the real one (`serve` over real pipes), in a process of its own, with a device
backend whose launches, before doing their work, scan every writable mapping of that process for the
words of each run's variant (multiplied by an odd constant, so that the scan's own needles never
match). The host's side (`Conversation`: each run's variant sent when that run asks) runs in this process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import opencl_usable, require_tool
from tests.test_redteam_kernel_memory import converse_over_fifos, fifo_pair, writable_memory
from tools.kernels import SUITE, Harness
from tools.kernels._host_link import VARIANT_KEY
from tools.kernels._protocol import write_message
from tools.kernels._task import Size

pytestmark = [pytest.mark.opencl]

MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
NBODY = SUITE["nbody"]
SIZE = Size("n2048", (2048,))


class Capturing:
    """Stands in for the worker: keeps each request it is given and answers that the candidate did not compile."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], dict[str, np.ndarray]]] = []

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self.sent.append((dict(header), {name: np.array(array, copy=True) for name, array in arrays.items()}))
        return {"ok": False, "stage": "compile", "error": "captured"}, {}


def captured_request(seed: int, harness: Harness | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    worker = Capturing()
    harness = harness or Harness(NBODY, worker, ceilings=None, warmup=1, repeats=5)  # type: ignore[arg-type]
    harness.worker = worker  # type: ignore[assignment]
    harness.evaluate(NBODY.seed, seed=seed, sizes=[SIZE])
    (sent,) = worker.sent
    return sent


def words(array: np.ndarray) -> np.ndarray:
    data = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
    return data[: data.size // 8 * 8].view(np.uint64)


def variant_needles(arrays: Mapping[str, np.ndarray]) -> dict[int, np.ndarray]:
    """Per run, hashed 8-byte words of its variant's values that no other array of the request holds."""
    others = np.unique(np.concatenate([words(a) for n, a in arrays.items() if not n.endswith(":value")]))
    needles: dict[int, np.ndarray] = {}
    for name, array in arrays.items():
        match = VARIANT_KEY.fullmatch(name)
        if match is None or not name.endswith(":value"):
            continue
        own = np.setdiff1d(np.unique(words(array)), others)
        needles[int(match[1])] = np.unique(own[own != 0] * MULTIPLIER)
    return needles


def _scanning_worker(inbox: str, outbox: str, needles: dict[int, np.ndarray], kernel: str, queue: Any) -> None:
    """Serve one request with a backend that, as each launch of `kernel` begins, counts every run's needles."""
    from tools.kernels._opencl import OpenCLBackend
    from tools.kernels._worker import WholeWrites, serve

    seen: list[dict[int, int]] = []

    order = sorted(needles)
    wanted = np.concatenate([needles[run] for run in order])
    labels = np.concatenate([np.full(needles[run].size, position) for position, run in enumerate(order)])
    sort = np.argsort(wanted)
    wanted, labels = wanted[sort], labels[sort]

    def scan() -> dict[int, int]:
        counts = np.zeros(len(order), np.int64)
        for chunk in writable_memory(1 << 22):
            # Both 4-byte alignments: an array the worker holds need not start at a multiple of 8.
            for shift in (0, 4):
                part = chunk[shift:]
                hashed = np.frombuffer(part[: len(part) // 8 * 8], dtype=np.uint64) * MULTIPLIER
                at = np.minimum(np.searchsorted(wanted, hashed), wanted.size - 1)
                hits = wanted[at] == hashed
                counts += np.bincount(labels[at[hits]], minlength=len(order))
        return {run: int(counts[position]) for position, run in enumerate(order)}

    class Scanning(OpenCLBackend):
        def launch(self, program: Any, name: str, *args: Any) -> Any:
            if name == kernel:
                seen.append(scan())
            return super().launch(program, name, *args)

    with open(inbox, "rb", buffering=0) as stream, WholeWrites(outbox, "wb") as sink:
        serve(Scanning(), stream, sink)
    queue.put(seen)


@pytest.mark.slow
def test_the_first_run_finds_no_later_run_s_inputs_in_the_worker(tmp_path: Path) -> None:
    """At run r's launch the worker holds run r's variant (the scan works) and no later run's.

    When one request carried every run's variant, all of them were in the worker's memory from the start,
    so the first launch found all of them; the worker now asks for each as its run begins.
    """
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    header, arrays = captured_request(seed=5)
    needles = variant_needles(arrays)
    runs = int(header["variants"])
    assert sorted(needles) == list(range(1, runs)) and all(n.size > 1000 for n in needles.values())
    inbox, outbox = fifo_pair(tmp_path)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_scanning_worker, args=(str(inbox), str(outbox), needles, "nbody", queue))
    child.start()
    reply, _ = converse_over_fifos(inbox, outbox, header, arrays)
    assert reply["ok"], reply
    seen = queue.get(timeout=600)
    child.join(60)
    assert len(seen) >= 3, seen
    for run, found in enumerate(seen):
        later = {other: count for other, count in found.items() if other > run}
        assert not any(later.values()), f"at run {run}'s launch the worker held later runs' inputs: {later}"
        if run:
            assert found[run] > 1000, f"the scan missed run {run}'s own inputs: {found}"


def test_requests_on_one_seed_get_variants_of_their_own() -> None:
    """Two evaluations on one seed: the same base inputs, but no run's variant of the first comes back."""
    harness = Harness(NBODY, Capturing(), ceilings=None, warmup=1, repeats=5)  # type: ignore[arg-type]
    first_header, first = captured_request(seed=9, harness=harness)
    _, second = captured_request(seed=9, harness=harness)
    assert all(np.array_equal(first[name], second[name]) for name in ("pos",))
    repeated = variant_needles(first)
    again = variant_needles(second)
    assert sorted(repeated) == sorted(again) == list(range(1, int(first_header["variants"])))
    for run in repeated:
        shared = np.intersect1d(repeated[run], np.concatenate(list(again.values())))
        assert shared.size == 0, f"run {run}'s variant came back in the second request ({shared.size} words)"


def test_the_worker_refuses_a_request_that_carries_its_runs_variants_inline() -> None:
    """A host that sent every run's variant inside the request would hand them all to the first run's kernel."""
    import io

    from tools.kernels._protocol import read_message
    from tools.kernels._worker import serve

    header, arrays = captured_request(seed=3)
    inbox, outbox = io.BytesIO(), io.BytesIO()
    write_message(inbox, header, arrays)
    inbox.seek(0)
    serve(object(), inbox, outbox)  # type: ignore[arg-type]  # refused before the device is touched
    outbox.seek(0)
    reply, payload = read_message(outbox)
    assert reply["ok"] is False and reply["stage"] == "protocol" and payload == {}
    assert "messages of their own" in reply["error"] and "variant1:" in reply["error"]
