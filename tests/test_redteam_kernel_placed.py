"""Kernel runs whose inputs the host places itself: a taken-over worker has nothing to work on off the clock.

A kernel alone took over its worker (on PoCL's CPU device kernels are native code in the worker's
process) and made a 0.6x saxpy pass the held-out gate at 1.82x the seed: the worker had the request's
base inputs before any clock started and computed their answer there, and each timed run's variant
named the few elements it changed, so the clocked window held only those. Now, where the device shares
the worker's memory, the worker's buffers live in a file the host writes itself (`_arena`): the worker
receives no input, no variant and no sample position, the host stages every run while the worker's
processes are stopped and reads it back after stopping them again (`_placed`), so whatever the worker
computes on a run's inputs, it computes inside the host's bracket.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sandboxes import LocalSandbox, Sandbox, SandboxProcess
from tests.conftest import opencl_usable, require_tool
from tests.test_redteam_kernel_clock import _exec, patched_candidate
from tests.test_sandbox_local import _running_as
from tools.kernels import SUITE, Harness, Worker
from tools.kernels._arena import PAGE, HostArena, WorkerArena, arena_bytes
from tools.kernels._host_clock import Clocked
from tools.kernels._placed import PlacedSession
from tools.kernels._protocol import ProtocolError
from tools.kernels._task import Size

SAXPY = SUITE["saxpy"]
TRUNCATING = (
    "import glob as _g, os as _os\n"
    "from tools.kernels import _host_link as _L\n"
    "_done = _L.HostLink.done\n"
    "def _cut(self, run, seconds):\n"
    "    for _p in _g.glob('.arena-*'): _os.truncate(_p, 0)\n"
    "    _done(self, run, seconds)\n"
    "_L.HostLink.done = _cut\n"
)
"""The worker cuts the shared file to nothing after its launch: a mapped read in the host would die of SIGBUS."""


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


class RecordingWorker(Worker):
    """A worker that keeps every message the host wrote to it: its header and the names of its arrays."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self.sent: list[tuple[dict[str, Any], list[str]]] = []

    def _write(self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], deadline: float) -> None:
        self.sent.append((dict(header), sorted(arrays)))
        super()._write(header, arrays, deadline)


FORKING = (
    "import os as _os, time as _t\n"
    "from tools.kernels import _host_link as _L\n"
    "_done = _L.HostLink.done\n"
    "def _fork(self, run, seconds):\n"
    "    if _os.fork() == 0:\n"
    "        _t.sleep(5)\n"
    "        _os._exit(0)\n"
    "    _done(self, run, seconds)\n"
    "_L.HostLink.done = _fork\n"
)
"""The worker starts a process as it says done: one the host's stop signal was not sent to could work on."""


class StoppedAtWill:
    """A worker's process that stops and resumes whenever asked (`Stoppable`), for the host's side alone."""

    newcomers: tuple[int, ...] = ()

    def pause(self) -> bool:
        return True

    def halt(self) -> bool:
        return True

    def resume(self) -> None:
        pass


# -- the host's side, without a device ----------------------------------------------------------------


REQUEST: dict[str, Any] = {
    "buffers": [
        {"name": "x", "dtype": "float32", "count": 1000, "role": "in"},
        {"name": "y", "dtype": "float32", "count": 1000, "role": "out"},
    ],
    "launches": [{"kernel": "k", "global": [1000], "local": None, "args": [{"buf": "x"}, {"buf": "y"}]}],
    "outputs": ["y"],
    "guard": PAGE,
    "warmup": 1,
    "repeats": 3,
    "variants": 5,
    "check": [0.5],
    "poison": 0x7C,
}


def test_the_host_and_the_worker_agree_on_where_every_buffer_lies(tmp_path: Path) -> None:
    nbytes = arena_bytes(REQUEST["buffers"], PAGE)
    assert nbytes == 2 * (PAGE + 4096 + PAGE)  # 4000 bytes round up to a page, with a page of guard each side
    with HostArena(tmp_path, nbytes) as host:
        offsets = [host.alloc(4000 + 2 * PAGE) for _ in range(2)]
        host.write(offsets[1], np.arange(10, dtype=np.float32), offset=PAGE)
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            worker = WorkerArena(host.name, nbytes)
        finally:
            os.chdir(cwd)
        worker.take(4000 + 2 * PAGE)
        seen = worker.take(4000 + 2 * PAGE)
        assert seen[PAGE : PAGE + 40].view(np.float32).tolist() == list(range(10))
        worker.close()
        assert host.path.exists()
    assert not host.path.exists()  # the request's file is gone with it


def test_a_worker_arena_is_a_file_of_its_own_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"named \.arena-"):
        WorkerArena("../../etc/passwd", PAGE)


def test_a_truncated_arena_is_the_worker_s_fault_not_a_host_crash(tmp_path: Path) -> None:
    with HostArena(tmp_path, 4 * PAGE) as host:
        os.truncate(host.path, PAGE)
        with pytest.raises(ProtocolError, match="truncated"):
            host.read(0, np.empty(2 * PAGE, np.uint8))


@pytest.mark.parametrize("signals", [True, False])
def test_the_host_writes_and_reads_the_buffers_only_while_the_worker_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signals: bool
) -> None:
    """Every byte the host places or reads back, it does with the worker stopped; the worker runs only in brackets.

    `signals`: whether the backend can signal the worker to stop inside the clock (else it stops it whole there)."""
    events: list[str] = []
    replies = iter(
        [{"op": "prepared"}, *({"op": "done", "run": run, "seconds": 1e-4} for run in range(5)), {"ok": True}]
    )

    def write(header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        assert not arrays, "a placed worker is sent no array"
        events.append(str(header["op"]))

    class Process:
        newcomers: tuple[int, ...] = ()

        def pause(self) -> bool:
            events.append("pause")
            return True

        def halt(self) -> bool:
            events.append("halt")
            return signals

        def resume(self) -> None:
            events.append("resume")

    base = {"x": np.arange(1000, dtype=np.float32)}
    variants = {
        run: {
            f"variant{run}:x:index": np.array([run], np.uint32),
            f"variant{run}:x:value": np.array([-1.0], np.float32),
        }
        for run in range(1, 5)
    }
    session = PlacedSession(
        write,
        lambda: (next(replies), {}),
        Process(),
        tmp_path,
        REQUEST,
        base,
        variants,
        {"sample:y": np.arange(0, 1000, 100, dtype=np.uint32)},
    )
    host_write, host_read = session.arena.write, session.arena.read

    def staged(*args: Any, **options: Any) -> None:
        events.append("place")
        host_write(*args, **options)

    def observed(*args: Any, **options: Any) -> None:
        events.append("read")
        host_read(*args, **options)

    session.arena.write = staged  # type: ignore[method-assign]
    session.arena.read = observed  # type: ignore[method-assign]
    from tools.kernels import _host_clock
    from tools.kernels._placed import placed_evaluation

    class Clock:
        def perf_counter(self) -> float:
            events.append("clock")
            return time.perf_counter()

    monkeypatch.setattr(_host_clock, "time", Clock())
    reply, payload = placed_evaluation(session, 1e-5, None)
    assert reply["ok"] and reply["placed"], reply
    assert reply["runs"] == 5 and reply["first_timed"] == 2, reply  # 1e-4 s runs: every repeat, and one warm-up
    assert set(reply["checked"]) >= {0, 1, 4} and "y@0" in payload and payload["sample:y"].shape == (5, 10)
    running = False
    for event in events:
        if event in ("place", "read"):
            assert not running, events
        running = {"resume": True, "pause": False}.get(event, running)
    assert events.count("go") == 5 and events[-1] == "end" and events[-2] == "resume", events
    # Each go comes right after the worker is resumed: its clock started before that.
    assert all(events[i - 2 : i] == ["clock", "resume"] for i, event in enumerate(events) if event == "go"), events
    # And the worker is signalled to stop before the clock stops, the wait for it after; or stopped whole before.
    after_go = ["go", "halt", "clock", "pause"] if signals else ["go", "halt", "pause", "clock"]
    assert all(events[i : i + 4] == after_go for i, e in enumerate(events) if e == "go"), events
    assert events.count("pause") == 6  # once as it said prepared, once per run
    assert not list(tmp_path.glob(".arena-*"))


class Unruly(StoppedAtWill):
    """A worker's process that, after run `at`, either cannot be stopped or has started a process."""

    def __init__(self, at: int, *, stops: bool = True, newcomers: tuple[int, ...] = ()) -> None:
        self.at, self.stops, self.later, self.runs = at, stops, newcomers, -1

    def halt(self) -> bool:
        self.runs += 1
        return True

    def pause(self) -> bool:
        self.newcomers = self.later if self.runs == self.at else ()
        return self.stops or self.runs != self.at


@pytest.mark.parametrize(
    ("process", "reason"),
    [
        (Unruly(2, newcomers=(4242,)), "started 1 process(es) while it ran run 2"),
        (Unruly(3, stops=False), "could not be stopped after run 3"),
        (Unruly(-1, stops=False), "could not be stopped as it said prepared"),
    ],
)
def test_a_worker_that_will_not_stop_or_starts_a_process_breaks_the_protocol(
    tmp_path: Path, process: Unruly, reason: str
) -> None:
    from tools.kernels._placed import placed_evaluation

    replies = iter([{"op": "prepared"}, *({"op": "done", "run": run, "seconds": 1e-4} for run in range(5))])
    base = {"x": np.zeros(1000, np.float32)}
    variants = {
        run: {f"variant{run}:x:index": np.array([run], np.uint32), f"variant{run}:x:value": np.ones(1, np.float32)}
        for run in range(1, 5)
    }
    session = PlacedSession(
        lambda header, arrays: None, lambda: (next(replies), {}), process, tmp_path, REQUEST, base, variants
    )
    with pytest.raises(ProtocolError, match=re.escape(reason)):
        placed_evaluation(session, 1e-5, None)
    assert not list(tmp_path.glob(".arena-*"))


# -- through the real worker --------------------------------------------------------------------------


@pytest.mark.opencl
def test_a_placed_candidate_worker_receives_no_input_no_variant_and_no_sample_position(tmp_path: Path) -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    candidate = RecordingWorker(factory, tmp_path / "worker", runs_candidates=True)
    trusted = RecordingWorker(factory, tmp_path / "worker-trusted")
    try:
        harness = Harness(SAXPY, candidate, ceilings=None, repeats=3, trusted=trusted)
        sizes = [Size("small", (4096,)), Size("larger", (1 << 16,))]
        evaluation = harness.evaluate(SAXPY.seed, seed=3, sizes=sizes, rival=SAXPY.seed)
    finally:
        candidate.kill()
        trusted.kill()
    assert evaluation.ok, evaluation.feedback()
    assert candidate.places_inputs and trusted.places_inputs  # PoCL's CPU device shares the worker's memory
    launchers = [header for header, _ in candidate.sent if header["op"] == "launcher"]
    assert len(launchers) == len(evaluation.sizes) >= 2
    assert all(not names for _, names in candidate.sent), [entry for entry in candidate.sent if entry[1]][:3]
    assert {header["op"] for header, _ in candidate.sent} <= {"hello", "calibrate", "go", "launcher", "end"}
    assert all(size.correct and size.checked_runs and size.paired_log_ratio is not None for size in evaluation.sizes)
    assert not list((tmp_path / "worker").glob(".arena-*")) and not list((tmp_path / "worker-trusted").glob(".arena-*"))


@pytest.mark.opencl
@pytest.mark.parametrize(
    ("patch", "named"),
    [(TRUNCATING, "truncated"), (FORKING, "started 1 process(es) while it ran run 0")],
    ids=["truncating", "forking"],
)
def test_a_placed_worker_breaking_the_protocol_is_a_crash_and_the_host_goes_on(
    tmp_path: Path, patch: str, named: str
) -> None:
    """Cutting the shared file short (a mapped read in the host would die of SIGBUS), or starting a process as
    it says done (one the host's stop signal was not sent to, which could work on past the clock)."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    worker = Worker(patched_candidate(_exec(patch)), tmp_path / "worker", runs_candidates=True)
    try:
        harness = Harness(SAXPY, worker, ceilings=None, repeats=3)
        evaluation = harness.evaluate(SAXPY.seed, seed=4, sizes=[Size("tiny", (4096,))])
    finally:
        worker.kill()
    assert evaluation.status == "crash", evaluation.feedback()
    assert named in evaluation.message, evaluation.message


class _Side:
    """A placed session's launches as a list of what happened, in order (`PlacedSession.launch`'s shape)."""

    def __init__(self, name: str, events: list[str], fail_at: int | None = None) -> None:
        self.name, self.events, self.fail_at = name, events, fail_at
        self.clocked: dict[int, Clocked] = {}

    def launch(
        self, run: int, timed: bool, *, observe: bool = True, record: bool = True, before_observing: Any = None
    ) -> Clocked:
        self.events.append(f"{self.name} launches {run}")
        if run == self.fail_at:
            raise ProtocolError(f"{self.name} broke the protocol")
        if before_observing is not None:
            before_observing()
        self.events.append(f"{self.name} read back {run}")
        clocked = Clocked(run, timed, 1e-3, 1e-3, 1e-3)
        self.clocked[run] = clocked
        return clocked


def test_each_side_of_a_timed_pair_launches_after_the_same_steps_as_the_other() -> None:
    """Mirrored pairs: each side launches first on half the runs and right after the other on the rest, and a
    pair is read back only once both launched. Before, the rival's runs were read back before the candidate
    launched on even runs: the candidate always launched after host-only work, and the seed timed against
    itself read 0.91x (geometric mean of six held-out gate runs; 0.95x mirrored, in the same run)."""
    from tools.kernels._placed import PlacedRival, _pair

    events: list[str] = []
    candidate = _Side("candidate", events)
    rival = PlacedRival(_Side("rival", events))  # type: ignore[arg-type]
    for run in range(1, 5):
        _pair(candidate, run, True, rival)  # type: ignore[arg-type]
    after_other = {"candidate": 0, "rival": 0}
    for before, event in itertools.pairwise(events):  # a launch right after the other side's, nothing between
        if "launches" in event and "launches" in before and event.split()[0] != before.split()[0]:
            after_other[event.split()[0]] += 1
    assert after_other == {"candidate": 2, "rival": 2}, events
    for run in range(1, 5):
        last_launch = max(events.index(f"{side} launches {run}") for side in ("candidate", "rival"))
        first_read = min(events.index(f"{side} read back {run}") for side in ("candidate", "rival"))
        assert last_launch < first_read, events


def test_a_candidate_breaking_the_protocol_inside_the_rival_s_run_is_the_candidate_s_failure() -> None:
    """On even runs the candidate launches inside the rival's run; its failure must not read as the trusted
    worker's (a `RivalError` would blame the seed)."""
    from tools.kernels._placed import PlacedRival, _pair

    events: list[str] = []
    rival_side = _Side("rival", events)
    rival_side.settle = lambda: None  # type: ignore[attr-defined]
    rival = PlacedRival(rival_side)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError, match="candidate broke the protocol"):
        _pair(_Side("candidate", events, fail_at=2), 2, True, rival)  # type: ignore[arg-type]
    assert events == ["rival launches 2", "candidate launches 2", "rival read back 2"], events


def test_too_few_variants_for_the_runs_ends_the_worker_s_request_with_the_reason(tmp_path: Path) -> None:
    from tools.kernels._placed import placed_evaluation

    sent: list[str] = []
    replies = iter([{"op": "prepared"}, {"op": "done", "run": 0, "seconds": 1e-4}, {"ok": True}])
    session = PlacedSession(
        lambda header, arrays: sent.append(str(header["op"])),
        lambda: (next(replies), {}),
        StoppedAtWill(),
        tmp_path,
        {**REQUEST, "variants": 2},
        {"x": np.zeros(1000, np.float32)},
        {1: {}},
    )
    reply, payload = placed_evaluation(session, 1e-5, None)
    assert not reply["ok"] and "at least 3 are needed" in reply["error"], reply
    assert sent == ["launcher", "go", "end"] and not payload  # the worker is not left waiting for a go
    assert not list(tmp_path.glob(".arena-*"))


LEAPFROG = """
import os
import time
out = os.open("count", os.O_WRONLY | os.O_CREAT, 0o644)
count = 0
while True:
    count += 1
    os.pwrite(out, b"%12d" % count, 0)
    try:
        child = os.fork()
    except OSError:  # the pids limit, reached while exited ones wait for the sandbox's init to reap them
        time.sleep(0.001)
        continue
    if child:
        os._exit(0)
"""
"""Always a new process: each one forks its successor and exits, so a list of members read once is always stale.
A fork refused at the pids limit would end the chain, which the test would read as a process left stopped.

The count is written in place, at a fixed width, never truncated first: opened with "w" at each step the file
was empty about half the time under load (on ext4 mounted `discard` the truncation waits for the disk to discard
the freed block), and a read in that window looked like a chain that had stopped."""


def test_a_command_that_keeps_forking_is_stopped_whole(tmp_path: Path) -> None:
    """While the host stages a run the worker must be stopped: a child forked as its parent stopped was missed."""
    require_tool(bool(shutil.which("bwrap")), "bubblewrap")
    sandbox = LocalSandbox(workdir=tmp_path)
    process = sandbox.spawn(["sh", "-c", 'python3 -c "$0" & sleep 60', LEAPFROG])
    counter = tmp_path / "count"
    try:
        deadline = time.monotonic() + 10
        while not counter.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        for _ in range(5):
            assert process.pause()
            time.sleep(0.05)  # a write the last process began as it stopped lands by now
            held = counter.read_text()
            time.sleep(0.3)
            assert counter.read_text() == held, "a process of the paused command went on running"
            process.resume()
            time.sleep(0.05)
        # And it runs again after resume: the read that saw the count move is the one judged, not a later one.
        deadline = time.monotonic() + 5
        seen = counter.read_text()
        while seen == held and time.monotonic() < deadline:
            time.sleep(0.01)
            seen = counter.read_text()
        assert seen != held, "the command did not run again after resume"
    finally:
        process.kill()
        sandbox.close()


THREADED = """
import threading
for _ in range(4):
    threading.Thread(target=threading.Event().wait, daemon=True).start()
while True:
    pass
"""
"""Spins in its main thread beside four sleeping ones, as a worker's runtime keeps a pool of threads."""


def _thread_states(pid: str) -> list[str]:
    """The state letter of each thread of `pid` (T once stopped)."""
    states = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
    return states


def test_a_pause_after_a_halt_returns_only_once_every_thread_has_stopped(tmp_path: Path) -> None:
    """`halt` only sends the stop signal (inside the clock), and a signal lands a moment later: the `pause` after it
    must see every thread stopped before it says so, since the host reads back and places the worker's buffers next."""
    require_tool(bool(shutil.which("bwrap")), "bubblewrap")
    marker = f"labgate-threaded-{os.getpid()}-{tmp_path.name}"
    sandbox = LocalSandbox(workdir=tmp_path)
    process = sandbox.spawn(["python3", "-c", THREADED, marker])
    try:
        deadline = time.monotonic() + 10
        pids = _running_as(marker, "python3")
        while not (len(pids) == 1 and len(_thread_states(pids[0])) == 5) and time.monotonic() < deadline:
            time.sleep(0.02)
            pids = _running_as(marker, "python3")
        assert len(pids) == 1 and len(_thread_states(pids[0])) == 5, pids
        assert process.pause()
        for _ in range(20):
            process.resume()
            time.sleep(0.01)
            assert process.halt()
            assert process.pause()
            states = _thread_states(pids[0])
            assert set(states) == {"T"}, f"pause returned with threads in states {states}"
        process.resume()
    finally:
        process.kill()
        sandbox.close()


def _take_pid(pid: int) -> subprocess.Popen[bytes] | None:
    """A host process started under `pid` (root writes the kernel's last pid just below it); None if another
    process took the number first, or pids cannot be steered here."""
    try:
        Path("/proc/sys/kernel/ns_last_pid").write_text(str(pid - 1))
    except OSError:
        return None
    host = subprocess.Popen(["sleep", "30"])
    if host.pid == pid:
        return host
    host.kill()
    host.wait()
    return None


def test_halt_and_resume_never_signal_a_host_process_that_took_an_ended_member_s_pid(tmp_path: Path) -> None:
    """`halt` stops what the last `resume` let run without listing it again. A member that ended during the run
    left its pid free; signalled by number, a host process given that pid next was stopped by a root labgate."""
    require_tool(bool(shutil.which("bwrap")), "bubblewrap")
    if os.geteuid() != 0:
        pytest.skip("steering the next pid needs root")
    sandbox = LocalSandbox(workdir=tmp_path)
    # The shell waits for both sleepers, so it reaps the short one as it ends and its pid is free again.
    process = sandbox.spawn(["sh", "-c", "sleep 0.4 & sleep 60 & wait"])
    host = None
    try:
        time.sleep(0.2)
        assert process.pause()
        short = [pid for pid in process._paused if Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x000.4\x00"]
        assert len(short) == 1, process._paused
        process.resume()
        deadline = time.monotonic() + 5
        while Path(f"/proc/{short[0]}").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        host = _take_pid(short[0])
        if host is None:
            pytest.skip("another process took the freed pid first")
        process.halt()
        time.sleep(0.05)
        state = Path(f"/proc/{host.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state != "T", "a host process that took an ended member's pid was stopped"
        assert process.pause()  # and the pause neither waits on it nor fails for it
        process.resume()
    finally:
        if host is not None:
            host.kill()
            host.wait()
        process.kill()
        sandbox.close()


SPINNING = """
import os
count = 0
while True:
    count += 1
    if count % 1000 == 0:
        with open("count", "w") as out:
            out.write(str(count))
    if os.path.exists("fork") and not os.path.exists("forked"):
        with open("forked", "w") as out:
            out.write("1")
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "60"])
"""
"""Counts without end; forks a sleeper once a file named `fork` appears."""


def wait_for_change(path: Path, changed_from: str | None = None) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text and text != changed_from:
            return text
        time.sleep(0.01)
    raise AssertionError(f"{path.name} did not change")


def check_halt_and_newcomers(process: SandboxProcess, folder: Path) -> None:
    """`halt` alone (the host's clock stops right after it) stops the command; `pause` names what it started.

    `process` runs `SPINNING` in `folder`."""
    counter = folder / "count"
    held = wait_for_change(counter)
    assert process.pause() and process.newcomers == ()
    process.resume()
    held = wait_for_change(counter, held)
    assert process.halt()
    time.sleep(0.05)  # a write begun as it stopped lands by now
    held = counter.read_text()
    time.sleep(0.3)
    assert counter.read_text() == held, "halt left the command running"
    assert process.pause() and process.newcomers == ()  # nothing started while it ran
    process.resume()
    (folder / "fork").touch()
    wait_for_change(folder / "forked")
    time.sleep(0.05)
    process.halt()
    assert process.pause()
    assert len(process.newcomers) == 1, process.newcomers  # the sleeper, started while it ran
    process.resume()
    assert process.pause() and process.newcomers == ()  # and known from then on
    process.resume()


def test_halt_stops_what_resume_let_run_with_no_pause_and_pause_names_processes_started_meanwhile(
    tmp_path: Path,
) -> None:
    require_tool(bool(shutil.which("bwrap")), "bubblewrap")
    sandbox = LocalSandbox(workdir=tmp_path)
    process = sandbox.spawn(["python3", "-c", SPINNING])
    try:
        check_halt_and_newcomers(process, tmp_path)
    finally:
        process.kill()
        sandbox.close()


@pytest.mark.opencl
def test_a_placed_worker_s_yardstick_runs_in_shared_pages_like_the_candidates_buffers(tmp_path: Path) -> None:
    """The bandwidth yardstick a fraction is of sits in the same kind of memory as a placed candidate's buffers."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tools.kernels._opencl import OpenCLBackend
    from tools.kernels._trial import Yardstick

    spec = {"kernel": "triad", "width": 4, "bytes": 1 << 20}
    backend = OpenCLBackend()
    try:
        assert backend.shares_host_memory
        assert len(Yardstick(backend, {**spec, "placed": True})._mappings) == 3
        assert not Yardstick(backend, spec)._mappings
    finally:
        backend.release()
    worker = RecordingWorker(factory, tmp_path / "worker-trusted")
    try:
        reply, _ = worker.request({"op": "yardstick", "yardstick": spec, "repeats": 3}, {}, 60)
    finally:
        worker.kill()
    assert reply["ok"] and len(reply["yardstick_times"]) >= 3, reply
    (sent,) = [header for header, _ in worker.sent if header["op"] == "yardstick"]
    assert sent["yardstick"]["placed"] is True  # the worker, which knows its mode, says so
