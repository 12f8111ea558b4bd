"""Kernel speed against a worker whose recorded durations were rewritten by the candidate running in it.

On PoCL's CPU device a kernel is native code in its worker and can rewrite that process's memory: a
red-team kernel walked to the interpreter's frames and halved a duration the worker had recorded, and
an nbody kernel doing the seed's work was accepted by the held-out gate at 1.46x the seed. Durations
are now the host's (`_host_clock`): the worker says ready, the host starts its clock and says go, the
worker says done. The seed beside the candidate runs in a worker of its own.

The forging worker here is the real one with its device clock reporting half of every launch (what the
payload achieved by rewriting memory), started through a sandbox factory that patches only the
candidate's worker, as a kernel in it would.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import statistics
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sandboxes import Limits, LocalSandbox, Sandbox, SandboxProcess
from tests.conftest import opencl_usable, require_tool
from tools.kernels import SUITE, Harness, Worker
from tools.kernels._host_clock import Clocked, Conversation, RivalSession, clocked_seconds, host_timed_reply
from tools.kernels._protocol import ProtocolError
from tools.kernels._task import Size

NBODY = SUITE["nbody"]
SIZE = Size("n2048", (2048,))
HALVED = (
    "from tools.kernels._opencl import OpenCLBackend as _B; _real = _B.elapsed; "
    "_B.elapsed = lambda self, events: 0.5 * _real(self, events); "
)
"""Every launch the worker times reads as half its length: the red team's forgery, done once for all."""
QUARTERED = HALVED.replace("0.5 *", "0.25 *")
"""Every launch reads as a quarter of its length."""
SLOW_NBODY = SUITE["nbody"].seed.replace(
    "    if (i < n) acc[i] = (float4)(ax, ay, az, 0.0f);",
    """    float bx = 0.0f, by = 0.0f, bz = 0.0f;  // the same sum again, backwards: twice the work
    for (int j = n - 1; j >= 0; --j) {
        float4 pj = pos[j];
        float dx = pj.x - pi.x, dy = pj.y - pi.y, dz = pj.z - pi.z;
        float inv = rsqrt(dx * dx + dy * dy + dz * dz + eps2);
        float s = pj.w * inv * inv * inv;
        bx += dx * s; by += dy * s; bz += dz * s;
    }
    if (i < n) acc[i] = (float4)(0.5f * (ax + bx), 0.5f * (ay + by), 0.5f * (az + bz), 0.0f);""",
)
"""An honest nbody kernel at about half the seed's speed (its default path sums every pair twice)."""
UNCLOCKED = (
    "from tools.kernels._host_link import HostLink as _L; _ready = _L.ready; "
    "_L.ready = lambda self, run, timed: _ready(self, run, False); "
)
"""The worker says no run is timed, so the host would clock none of them as timed (nor pair a rival)."""
SPINNING = (
    "import mmap as _mm, os as _os, time as _t; _busy = _mm.mmap(-1, 1)\n"
    "for _i in range(2):\n"
    "    if _os.fork() == 0:\n"
    "        _parent = _os.getppid()\n"
    "        while _os.getppid() == _parent:\n"
    "            if _busy[0]:\n"
    "                for _k in range(20000): pass\n"
    "            else:\n"
    "                _t.sleep(0.0002)\n"
    "        _os._exit(0)\n"
    "from tools.kernels import _host_link as _L, _protocol as _P; _read = _L.read_message\n"
    "def _waiting(inbox):\n"
    "    _busy[0] = 1\n"
    "    try: return _read(inbox)\n"
    "    finally: _busy[0] = 0\n"
    "_L.read_message = _waiting\n"
)
"""Two processes the worker forked burn both cores whenever it waits for the host (the rival then runs)."""
PRELAUNCHING = (
    "import time as _t\n"
    "from tools.kernels import _trial as _T\n"
    "def _run(self, index, program, *, timed=False, observe=True):\n"
    "    self.timing = timed\n"
    "    with self.inputs.run(index) as inputs:\n"
    "        self._prepare(index, inputs)\n"
    "        launch = self.backend.launch\n"
    "        seconds = self.backend.elapsed([launch(program, *item) for item in self.launches])\n"
    "        self.link.ready(index, timed)\n"
    "        end = _t.perf_counter() + 0.35 * seconds\n"
    "        while _t.perf_counter() < end: pass\n"
    "        self.link.done(index, 0.35 * seconds)\n"
    "        if observe: self._observe(index, inputs)\n"
    "    return seconds\n"
    "_T.Trial.run = _run\n"
)
"""A worker whose control flow is taken over: each run's work done before it says ready, then a third of the
time spent (and reported) between go and done, which keeps it above the physics floor."""


def _exec(patch: str) -> str:
    """Patch text as one statement of the worker's `-c` line (which a multi-line patch cannot be)."""
    return f"exec({patch!r}); "


class PatchedSandbox(LocalSandbox):
    """A local sandbox whose worker runs `patch` first: the state a kernel that rewrote its worker leaves."""

    def __init__(self, patch: str, workdir: Path, ro_paths: Sequence[Path]) -> None:
        super().__init__(workdir=workdir, ro_paths=tuple(ro_paths))
        self.patch = patch

    def spawn(
        self,
        cmd: Sequence[str],
        *,
        limits: Limits | None = None,
        env: Any = None,
        cwd: str | None = None,
    ) -> SandboxProcess:
        argv = list(cmd)
        code = argv.index("-c") + 1
        prefix, _, rest = argv[code].partition("from tools.kernels._worker import main")
        argv[code] = f"{prefix}{self.patch}from tools.kernels._worker import main{rest}"
        return super().spawn(argv, limits=limits, env=env, cwd=cwd)


def patched_candidate(patch: str) -> Any:
    """A sandbox factory patching the candidate's worker only (its folder is not the trusted one's)."""

    def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        if workdir.name.endswith("-trusted") or workdir.name.endswith("-reference"):
            return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))
        return PatchedSandbox(patch, workdir, ro_paths)

    return factory


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    forging = Worker(patched_candidate(HALVED), tmp_path / "worker")
    trusted = Worker(patched_candidate(HALVED), tmp_path / "worker-trusted")  # not patched: its folder
    try:
        yield forging, trusted
    finally:
        forging.kill()
        trusted.kill()


# -- the host's clock, without a device ----------------------------------------------------------------


def test_a_duration_is_the_device_s_only_within_the_host_s_bracket() -> None:
    assert clocked_seconds(0.010, 0.0105, 0.001) == 0.010  # honest: inside the bracket
    assert clocked_seconds(0.005, 0.0105, 0.001) == pytest.approx(0.0095)  # halved: the bracket less its cost
    assert clocked_seconds(1.0, 0.0105, 0.001) == 0.0105  # longer than the bracket: the bracket
    assert clocked_seconds(float("nan"), 0.0105, 0.001) == pytest.approx(0.0095)
    assert clocked_seconds(-3.0, 0.0105, 0.001) == pytest.approx(0.0095)


def _reply(first_timed: int, times: list[float]) -> dict[str, Any]:
    return {"ok": True, "first_timed": first_timed, "times": times, "first": 1e-9}


def test_the_reply_s_durations_are_replaced_by_the_host_s() -> None:
    clocked = [Clocked(0, False, 0.02, 0.01, 0.02), Clocked(1, False, 0.02, 0.01, 0.02)]
    clocked += [Clocked(run, True, 0.0101, 0.001, 0.0101) for run in (2, 3, 4)]
    reply = host_timed_reply(_reply(2, [1e-6, 1e-6, 1e-6]), clocked, 0.0001, None)
    assert reply["times"] == pytest.approx([0.01] * 3)
    assert reply["device_times"] == [0.001] * 3 and reply["host_clocked"] is True
    assert reply["first"] == pytest.approx(0.0199)


@pytest.mark.parametrize(
    ("first_timed", "claimed", "clocked"),
    [
        (2, 3, [(0, False), (1, False), (2, True), (3, True)]),  # a timed run the host never clocked as timed
        (2, 3, [(0, False), (1, False), (2, True), (3, False), (4, True)]),  # said untimed, claimed timed
        (2, 2, [(0, False), (1, False), (2, True), (3, True), (4, True)]),  # clocked more than it reports
        (1, 2, [(1, True), (2, True)]),  # no first run
        (1, 2, [(0, False), (1, True), (1, True), (2, True)]),  # a run launched twice
    ],
)
def test_a_reply_whose_timed_runs_are_not_the_clocked_ones_breaks_the_protocol(
    first_timed: int, claimed: int, clocked: list[tuple[int, bool]]
) -> None:
    launches = [Clocked(run, timed, 0.01, 0.01, 0.01) for run, timed in clocked]
    with pytest.raises(ProtocolError):
        host_timed_reply(_reply(first_timed, [0.01] * claimed), launches, 0.0, None)


def test_the_worker_asking_twice_for_one_run_s_inputs_breaks_the_protocol() -> None:
    said: list[tuple[dict[str, Any], dict[str, np.ndarray]]] = [
        ({"op": "want", "run": 1, "timed": False}, {}),
        ({"op": "want", "run": 1, "timed": False}, {}),
    ]
    sent: list[dict[str, Any]] = []
    conversation = Conversation(lambda h, a: sent.append(dict(h)), lambda: said.pop(0), {1: {}})
    with pytest.raises(ProtocolError, match="twice"):
        conversation.serve()
    assert sent == [{"op": "variant", "run": 1}]


@pytest.mark.parametrize(
    ("said", "complaint"),
    [
        ([({"op": "ready", "run": 2, "timed": True}, {})], "never asked for"),
        (
            [({"op": "want", "run": 2, "timed": False}, {}), ({"op": "ready", "run": 2, "timed": True}, {})],
            "the other kind",
        ),
    ],
)
def test_a_launch_must_be_of_a_run_whose_inputs_were_asked_for_as_that_kind(
    said: list[tuple[dict[str, Any], dict[str, np.ndarray]]], complaint: str
) -> None:
    """Announcing a run untimed, then launching it timed, would leave the rival out of exactly that run."""
    sent: list[dict[str, Any]] = []
    conversation = Conversation(lambda h, a: sent.append(dict(h)), lambda: said.pop(0), {2: {}})
    with pytest.raises(ProtocolError, match=complaint):
        conversation.serve()
    assert not any(message.get("op") == "go" for message in sent), sent


def test_a_worker_that_cannot_be_stopped_while_its_rival_runs_breaks_the_protocol() -> None:
    """A `pause` that could not stop every process (some may spin, slowing the rival) used to be passed over."""
    events: list[str] = []
    rival = RivalSession(lambda h, a: None, lambda: ({}, {}), {})
    rival.run = lambda run: events.append(f"rival {run}")  # type: ignore[method-assign]
    said = [({"op": "want", "run": 2, "timed": True}, {})]
    conversation = Conversation(
        lambda h, a: events.append(str(h["op"])),
        lambda: said.pop(0),
        {2: {}},
        rival,
        pause=lambda: events.append("pause") is not None,  # False: not every process stopped
        resume=lambda: events.append("resume"),
    )
    with pytest.raises(ProtocolError, match="could not be stopped while the rival ran run 2"):
        conversation.serve()
    assert events == ["pause", "resume"]  # the rival never ran; what was stopped is let go


def test_a_timed_run_without_its_rival_breaks_the_protocol() -> None:
    rival = RivalSession(lambda h, a: None, lambda: ({}, {}), {})
    rival.clocked = {2: Clocked(2, True, 0.01, 0.009, 0.01), 4: Clocked(4, True, 0.01, 0.009, 0.01)}
    clocked = [Clocked(0, False, 0.02, 0.01, 0.02), Clocked(1, False, 0.02, 0.01, 0.02)]
    clocked += [Clocked(run, True, 0.0101, 0.01, 0.0101) for run in (2, 3, 4)]
    with pytest.raises(ProtocolError, match="no rival"):
        host_timed_reply(_reply(2, [0.01] * 3), clocked, 0.0001, rival)
    rival.clocked[3] = Clocked(3, True, 0.02, 0.019, 0.02)
    reply = host_timed_reply(_reply(2, [0.01] * 3), clocked, 0.0001, rival)
    assert reply["rival_times"] == pytest.approx([0.009, 0.019, 0.009]), reply  # within its brackets


def _states(pids: list[int]) -> set[str]:
    """Each process's state letter from /proc (T: stopped)."""
    states = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            states.add(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0])
    return states


def test_a_paused_sandbox_stops_every_process_it_started(tmp_path: Path) -> None:
    """`pause` stops the command and what it forked (here: two busy loops), `resume` lets them run on."""
    require_tool(bool(shutil.which("bwrap")), "bubblewrap")
    sandbox = LocalSandbox(workdir=tmp_path)
    process = sandbox.spawn(["sh", "-c", "(while :; do :; done) & (while :; do :; done) & wait"])
    try:
        deadline = time.monotonic() + 10
        while len(_descendants(process)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.pause()
        busy = _descendants(process)
        assert len(busy) >= 3, busy
        assert _states(busy) == {"T"}, _states(busy)
        process.resume()
        time.sleep(0.1)
        assert "T" not in _states(busy), _states(busy)
    finally:
        process.kill()
        sandbox.close()


def _descendants(process: SandboxProcess) -> list[int]:
    from sandboxes._process import _descendants as below

    return [pid for pid in below(process.process.pid) if pid != process.process.pid]  # type: ignore[attr-defined]


# -- a real worker whose clock lies ---------------------------------------------------------------------


@pytest.mark.opencl
def test_a_worker_reporting_half_its_durations_gains_nothing_beside_the_seed(workers: tuple[Worker, Worker]) -> None:
    """The seed against itself, its worker's device clock halved: about 1x, where the device said 2x."""
    forging, trusted = workers
    harness = Harness(NBODY, forging, ceilings=None, warmup=1, repeats=3, trusted=trusted)
    replies: list[dict[str, Any]] = []
    request = forging.request

    def spy(*args: Any, **options: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        reply, raw = request(*args, **options)
        replies.append(reply)
        return reply, raw

    forging.request = spy  # type: ignore[method-assign]
    evaluation = harness.evaluate(NBODY.seed, seed=11, sizes=[SIZE], rival=NBODY.seed)
    assert evaluation.ok, evaluation.feedback()
    (reply,) = replies
    device, host, rival = reply["device_times"], reply["times"], reply["rival_times"]
    # The forgery happened: the worker's own account is about half of what the host saw (the host's time also
    # holds the launch's overhead, which load stretches: 0.66 was seen beside other work; honest is 0.9-1).
    assert statistics.median(d / h for d, h in zip(device, host, strict=True)) < 0.75, (device, host)
    claimed = statistics.median(math.log(r / d) for r, d in zip(rival, device, strict=True))
    paired = evaluation.sizes[0].paired_log_ratio
    assert paired is not None, evaluation.feedback()
    # Pair by pair the host's ratio is the claimed one less the forged factor: whatever the machine's load.
    assert paired < claimed - math.log(1.7), (paired, claimed)
    # And below the forged 2x (loosely: with 3 pairs one run at 1.4x its usual time on either side, which this
    # machine shows about once in six, moves the median, and 1.57x was seen under load).
    assert paired < math.log(1.8), paired


def seed_beside_itself(patch: str, folder: Path, seed: int, *, place_inputs: bool | None = None) -> float:
    """The paired log ratio of the nbody seed against itself, its own worker patched with `patch`.

    `place_inputs=False`: the workers upload each run's inputs themselves, as on a device with memory of
    its own (by default on this CPU device the host places them, `_placed`)."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    patched = Worker(
        patched_candidate(_exec(patch)), folder / "worker", runs_candidates=True, place_inputs=place_inputs
    )
    trusted = Worker(patched_candidate(""), folder / "worker-trusted", place_inputs=place_inputs)
    try:
        harness = Harness(NBODY, patched, ceilings=None, warmup=1, repeats=5, trusted=trusted)
        evaluation = harness.evaluate(NBODY.seed, seed=seed, sizes=[SIZE], rival=NBODY.seed)
    finally:
        patched.kill()
        trusted.kill()
    assert evaluation.ok, evaluation.feedback()
    paired = evaluation.sizes[0].paired_log_ratio
    assert paired is not None, evaluation.feedback()
    return paired


@pytest.mark.opencl
def test_a_worker_burning_the_cores_while_the_rival_runs_is_stopped_meanwhile(tmp_path: Path) -> None:
    """The seed against itself, its worker's forked processes spinning whenever it waits for the host.

    With the spinners running the rival beside it ran on busy cores (the seed read as 1.26x and 1.62x itself
    on this 2-core machine); the candidate's sandbox is now stopped while the rival runs and between its
    requests, so the pair measures about 1x (0.90x).
    """
    paired = seed_beside_itself(SPINNING, tmp_path, seed=5)
    assert paired < math.log(1.25), paired


@pytest.mark.opencl
def test_a_worker_doing_its_work_before_it_says_ready_is_timed_from_its_inputs(tmp_path: Path) -> None:
    """The seed against itself, its worker launching each run before `ready` and idling a third of that after.

    By its brackets it was 3.98x the seed; a run's time is now also at least its window, from the host
    sending its inputs to `done`, less what the rival's windows hold besides the work (and a quarter more),
    so it measures about 1x (0.79x: the idling is on top of the work).
    """
    paired = seed_beside_itself(PRELAUNCHING, tmp_path, seed=7, place_inputs=False)
    assert paired < math.log(1.3), paired


@pytest.mark.opencl
def test_a_worker_that_clocks_no_timed_run_is_a_crash(tmp_path: Path) -> None:
    """Where workers upload their inputs (a device with memory of its own) they say which runs are timed."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    worker = Worker(patched_candidate(UNCLOCKED), tmp_path / "worker", place_inputs=False)
    try:
        evaluation = Harness(NBODY, worker, ceilings=None).evaluate(NBODY.seed, seed=3, sizes=[SIZE])
    finally:
        worker.kill()
    assert evaluation.status == "crash", evaluation.feedback()
    # Caught where the run it calls untimed was asked for as timed (or, failing that, by the reply's timed runs).
    assert "broke the protocol" in evaluation.message, evaluation.message
    assert "the other kind" in evaluation.message or "clocked as timed" in evaluation.message, evaluation.message


@pytest.mark.slow
@pytest.mark.opencl
def test_the_held_out_gate_finds_a_slow_kernel_slow_though_its_worker_quarters_its_durations(tmp_path: Path) -> None:
    """End to end through `measure`: the gate's own harness, the candidate's worker patched, the seed's not.

    A kernel doing twice the seed's work reports a quarter of every duration: 2x the seed by its worker's
    account, about 0.5x by the host's, which the gate finds slower than a 0.9x threshold.
    """
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from verifiers.kernels import KernelHeldoutGate
    from verifiers.kernels._measure import measure

    assert NBODY.seed != SLOW_NBODY
    result = measure(NBODY, SLOW_NBODY, "heldout", patched_candidate(QUARTERED), min_speedup=0.9, max_rounds=6)
    assert result.candidate.ok, result.candidate.feedback()
    accepted, _ = KernelHeldoutGate().judge(result, 0.9)
    assert not accepted, result.speed
    assert result.speed is not None and result.speed.verdict == "slower", result.speed
    assert result.speedup() < 0.75, result.speedup()
