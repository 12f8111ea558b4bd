"""Running one host process with a wall clock, an output cap, directory quotas and whole-tree cleanup.

The child starts its own session so that a timeout can kill everything it spawned with one
signal; output is drained as it arrives (`_pump.py`, in the calling thread for a command, by a thread
for a long-lived worker) so a chatty child can never block on a full pipe. Where the
backend has a stronger way to kill the whole tree (a cgroup), it passes it as `kill_tree`. A
`QuotaWatch` is polled while the command runs and once after it ends, so a candidate that fills the
disk is stopped in the act, and one that filled it just before exiting is still caught.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Literal

from sandboxes._base import (
    ExecResult,
    OutputLimitExceededError,
    ResourceLimitError,
    SandboxProcess,
    SandboxTimeoutError,
)
from sandboxes._pump import CappedBuffer, Pump
from sandboxes._quota import QuotaWatch, limit_name

PIPE_BYTES = 1 << 20
"""Pipe size asked for a long-lived worker's requests and replies (Linux's default is 64 KiB)."""

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def widen_pipes(*streams: IO[bytes]) -> None:
    """Give each pipe `PIPE_BYTES` of buffer where the system allows it (else it keeps its own).

    A worker's requests and replies carry arrays of tens of MB; through 64 KiB the two processes
    take turns every 64 KiB, and on two cores a 1 MiB pipe moved the same bytes in about half the time.
    """
    for stream in streams:
        with contextlib.suppress(OSError, ValueError):
            fcntl.fcntl(stream.fileno(), F_SETPIPE_SZ, PIPE_BYTES)


TAIL_BYTES_PER_SECOND = 4 << 20
"""How fast the kept tail of a long-lived process's stream (a worker's stderr) is drained at most."""


class _CappedReader(threading.Thread):
    """Drains a pipe for a long-lived process, keeping at most `cap` bytes; reports when the cap was crossed."""

    def __init__(
        self, stream: IO[bytes], cap: int, on_overflow: threading.Event, keep: Literal["head", "tail"] = "head"
    ) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.on_overflow = on_overflow
        self.buffer = CappedBuffer(cap, keep)

    def run(self) -> None:
        window, taken = time.monotonic(), 0
        while True:
            try:
                chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
            except (OSError, ValueError):
                break
            if not chunk:
                break
            self.buffer.feed(chunk)
            if self.buffer.overflowed:
                self.on_overflow.set()
            if self.buffer.keep == "tail":
                # Only the newest bytes are kept, so there is no hurry: past TAIL_BYTES_PER_SECOND the
                # process waits on its own full pipe. Drained as fast as it wrote, a worker writing stderr
                # without pause cost labgate's process 0.7 of a core, outside every limit of the sandbox.
                taken += len(chunk)
                if taken > TAIL_BYTES_PER_SECOND:
                    time.sleep(max(0.0, window + 1.0 - time.monotonic()))
                    window, taken = time.monotonic(), 0
        with contextlib.suppress(OSError):
            self.stream.close()

    def text(self) -> str:
        return self.buffer.text()


def _children(pid: int) -> list[int]:
    """The direct children of `pid` (from /proc; a scan where the kernel lacks the `children` file)."""
    with contextlib.suppress(OSError, ValueError):
        return [int(item) for item in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


PAUSE_WAIT = 0.5
"""Seconds `pause` waits for the processes it signalled to show as stopped."""


def _state(pid: int, tid: int | None = None) -> bytes:
    """`pid`'s state letter from /proc (R running, S sleeping, T stopped, Z zombie...), or that of its thread
    `tid`; b"" once it is gone."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        return Path(path).read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return b""


_STILL = (b"", b"T", b"t", b"Z", b"X")
"""States of a thread that runs no more: gone, stopped (T, t), or ended (Z, X)."""


def _running(pid: int) -> bool:
    """Whether any thread of process `pid` exists and is not stopped or ended.

    The leader's state alone is not the process's: a leader that has exited on its own shows as a zombie while
    the other threads run on, and a stop signal is taken by one thread, which then stops the others after it.
    """
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return _state(pid) not in _STILL
    return any(_state(pid, int(tid)) not in _STILL for tid in tids if tid.isdigit())


def _await_stopped(pids: Sequence[int], deadline: float) -> bool:
    """Wait until none of `pids` runs (`_running`); False when one still does at `deadline`.

    A stop signal reaches a process running on another core a moment later, and a process in an uninterruptible
    wait only when that wait ends: sent is not stopped.
    """
    while any(_running(pid) for pid in pids):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.0002)
    return True


class ProcessHandles:
    """A pidfd for each process a command's pause and resume signal: the process itself, never its pid's next owner.

    `halt` and `resume` signal what the last `pause` listed without listing again (they run inside a
    measurement's clock). By pid, a process that ended meanwhile (a short-lived child, one a run killed) left
    its number free, and a host process given that number next would have been stopped, or continued, by a
    root labgate. A pidfd names the process: once it has ended, a signal to it finds nothing (ESRCH). Where
    pidfds are not available (Linux before 5.3), the pid is signalled as before.
    """

    def __init__(self) -> None:
        self._fds: dict[int, int] = {}

    def track(self, pid: int) -> bool:
        """Hold a handle on `pid` (listed just now as a member); False when it has already ended."""
        if pid in self._fds:
            return True
        try:
            self._fds[pid] = os.pidfd_open(pid)
        except ProcessLookupError:
            return False
        except OSError:
            pass  # no pidfds here: `send` signals the pid
        return True

    def send(self, pid: int, signum: int) -> None:
        """`signum` to the process `pid` named when tracked. Raises ProcessLookupError once it has ended."""
        fd = self._fds.get(pid)
        if fd is None:
            os.kill(pid, signum)
        else:
            signal.pidfd_send_signal(fd, signum)

    def stop(self, pids: Sequence[int]) -> tuple[list[int], bool]:
        """SIGSTOP to each of `pids`, the last first (the command's own process, started last, is the one at
        work), with no listing and no wait: what `halt` does inside a measurement's clock. Returns the pids
        signalled and whether none refused the signal (one already ended refuses nothing)."""
        signalled, allowed = [], True
        for pid in reversed(pids):
            try:
                self.send(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            except PermissionError:
                allowed = False
                continue
            signalled.append(pid)
        return signalled, allowed

    def keep_only(self, pids: Sequence[int]) -> None:
        """Drop the handles of processes no longer listed (ended, or gone from the command)."""
        for pid in [pid for pid in self._fds if pid not in pids]:
            with contextlib.suppress(OSError):
                os.close(self._fds.pop(pid))

    def ended(self, pid: int) -> bool:
        """Whether the tracked process `pid` has ended (its handle is then dropped); False where unknown."""
        fd = self._fds.get(pid)
        if fd is None:
            return False
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(0):
            return False
        os.close(self._fds.pop(pid))
        return True

    def close(self) -> None:
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it (their children, recursively)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(child for child in _children(current) if child not in found)
    return found


def _kill_group(process: subprocess.Popen[bytes], kill_tree: Callable[[], None] | None = None) -> None:
    """Kill the command and everything it started.

    The direct children go first and the command gets a moment to reap them: for bubblewrap that
    child is the sandbox's init, whose death ends the whole namespace, and its monitor then exits
    by itself instead of leaving the init as a zombie for the host's init to collect.
    """
    if process.poll() is None:
        children = _children(process.pid)
        for child in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGKILL)
        if children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    if kill_tree is not None:
        kill_tree()


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float,
    output_bytes: int,
    input: bytes | None = None,
    watch: QuotaWatch | None = None,
    kill_tree: Callable[[], None] | None = None,
    pass_fds: Sequence[int] = (),
) -> ExecResult:
    """Run argv to completion under its wall clock, output cap and directory quota.

    Raises:
        SandboxTimeoutError: the wall clock ran out; everything was killed.
        OutputLimitExceededError: stdout or stderr passed `output_bytes`; everything was killed.
        ResourceLimitError: the directory crossed its disk or file-count limit (`limit` names it).
    """
    start = time.monotonic()
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        close_fds=True,
        pass_fds=tuple(pass_fds),
    )
    pump = Pump(process, output_bytes, input)
    try:
        deadline = start + timeout
        timed_out = False
        breach: str | None = None
        while process.poll() is None:
            pump.step(0.05)
            if pump.overflowed:
                break
            if time.monotonic() >= deadline:
                timed_out = True
                break
            breach = watch.check() if watch is not None else None
            if breach is not None:
                break
        # A daemonised grandchild may still hold the pipes open; the group (or tree) kill covers the rest.
        _kill_group(process, kill_tree)
        process.wait()
        if breach is None and not timed_out and watch is not None:
            breach = watch.check_now()
        pump.drain(5.0)
    finally:
        pump.close()
    stdout, stderr = pump.stdout.text(), pump.stderr.text()
    result = ExecResult(
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        duration=time.monotonic() - start,
    )
    if timed_out:
        raise SandboxTimeoutError(f"command timed out after {timeout:g} s and was killed", result)
    if breach is not None:
        raise ResourceLimitError(f"{breach}; everything in the sandbox was killed", limit_name(breach), result)
    if pump.overflowed:
        raise OutputLimitExceededError(f"command wrote more than {output_bytes} bytes of output and was killed", result)
    return result


class HostProcess(SandboxProcess):
    """A long-lived child in its own session, killed as a whole tree; stderr kept in a ring.

    The caller owns the wall clock; the directory quota is watched here, by a thread, since nobody
    else polls while a worker serves requests. A breach kills the worker, and `limit_exceeded` (and
    the stderr tail) say which limit it crossed.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        stderr_bytes: int,
        on_exit: Callable[[], None],
        watch: QuotaWatch | None = None,
        kill_tree: Callable[[], None] | None = None,
        pass_fds: Sequence[int] = (),
        members: Callable[[], list[int]] | None = None,
    ) -> None:
        """`members`: every process of the command (its cgroup's), for `pause`; without it, its descendants."""
        self.process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
            pass_fds=tuple(pass_fds),
        )
        assert self.process.stdin is not None and self.process.stdout is not None and self.process.stderr is not None
        widen_pipes(self.process.stdin, self.process.stdout)
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        self._stderr = _CappedReader(self.process.stderr, stderr_bytes, threading.Event(), keep="tail")
        self._stderr.start()
        self._on_exit = on_exit
        self._kill_tree = kill_tree
        self._members = members
        self._paused: list[int] = []
        self._handles = ProcessHandles()
        self._let_run: list[int] | None = None
        """What the last `resume` let run (None once a `pause` has stopped it again): what `halt` stops."""
        self.newcomers: tuple[int, ...] = ()
        self._lock = threading.Lock()
        self._killed = False
        self.limit_exceeded: str | None = None
        if watch is not None:
            threading.Thread(target=self._watch, args=(watch,), daemon=True).start()

    def _watch(self, watch: QuotaWatch) -> None:
        while self.process.poll() is None and not self._killed:
            breach = watch.check()
            if breach is not None:
                self.limit_exceeded = breach
                self.kill()
                return
            time.sleep(0.05)

    def poll(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        with self._lock:
            if self._killed:
                return
            self._killed = True
        _kill_group(self.process, self._kill_tree)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        self._handles.close()
        self._on_exit()

    def pause(self) -> bool:
        """Stop every process of the command; those it forks while being stopped are found and stopped too.

        A process forked just before its parent stopped is not in the list read first and would run
        on (a worker could keep one child always a step ahead). So the members are read again once every
        listed one shows as stopped (a stopped process forks nothing), until a read finds no new one.
        Those `halt` signalled are waited for the same way: a signal is only sent there, and lands later.
        False, failing closed, when that has not happened within `PAUSE_WAIT` (a process that cannot be
        signalled, or will not show as stopped, or new ones still turning up): something may run on.
        """
        if self.process.poll() is not None:
            return False
        let_run = set(self._let_run) if self._let_run is not None else None
        newcomers: list[int] = []
        complete = True
        deadline = time.monotonic() + PAUSE_WAIT
        while True:
            members = self._members() if self._members is not None else _descendants(self.process.pid)
            fresh = [pid for pid in members if pid not in self._paused]
            for pid in fresh:
                try:
                    if not self._handles.track(pid):
                        continue
                    self._handles.send(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    continue
                except PermissionError:
                    pass  # listed as paused all the same: the wait below sees it running and fails closed
                self._paused.append(pid)
                if let_run is not None and pid not in let_run and _state(pid) not in (b"", b"Z", b"X"):
                    newcomers.append(pid)  # one that has ended (a linker the runtime waited for) worked on nothing
            # One `halt` signalled that ended during the run is not waited for: its pid may be another's now.
            self._paused = [pid for pid in self._paused if not self._handles.ended(pid)]
            if not _await_stopped(self._paused, deadline):
                complete = False
                break
            if not fresh:
                break
        self.newcomers = tuple(newcomers)
        self._let_run = None
        self._handles.keep_only(self._paused)
        return complete and bool(self._paused)

    def halt(self) -> bool:
        """SIGSTOP to what the last `resume` let run (`ProcessHandles.stop`); `pause` then waits for all of them."""
        if self._let_run is None:
            return False
        _, allowed = self._handles.stop(self._let_run)
        self._paused = list(self._let_run)
        return allowed

    def resume(self) -> None:
        """SIGCONT to what `pause` stopped, and nothing else to do: it may run inside a measurement's clock.

        `pause` found every member (none could fork while stopped), so there is no list to read again here.
        """
        for pid in self._paused:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                self._handles.send(pid, signal.SIGCONT)
        self._let_run = self._paused
        self._paused = []

    def stderr_tail(self) -> str:
        tail = self._stderr.text()
        if self.limit_exceeded is not None:
            tail += f"\n[labgate] killed: {self.limit_exceeded}"
        return tail
