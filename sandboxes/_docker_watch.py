"""Aggregate limits watched while a docker command runs: memory, processes, /tmp, disk and file count.

The container's cgroup bounds memory and processes by itself, and its /tmp is a sized tmpfs, but
a bind-mounted host directory has no quota of its own, and an OOM kill, a process count held at
its ceiling or a full /tmp looks, from the command's side, like any other failure. So a small
thread polls, a few times a second, the cgroup's OOM-kill and process counters, the directory's
quota (`QuotaWatch`) and /tmp's free space; at the first breach it kills the container through
`on_breach` (which ends the command's stream) and remembers which limit was crossed, so the
sandbox can raise `ResourceLimitError` naming it instead of reporting a bare failure.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandboxes._docker_cgroup import ContainerCgroup
from sandboxes._quota import QuotaWatch, limit_name

POLL_SECONDS = 0.1
# A command at its process ceiling for this long is a fork bomb, not a burst that met the limit and
# recovered (a command that ends sooner is left to report its own failed forks).
CEILING_SECONDS = 1.0


@dataclass
class Breach:
    limit: str
    message: str


@dataclass
class ExecWatch:
    """Polls one command's limits in a thread from `start()` to `stop()`; `stop()` returns the breach, if any.

    `processes` is the command's own process limit: the command holds the limit when the cgroup
    counts that many processes above `baseline` (what the container ran before the command began).
    """

    quota: QuotaWatch | None
    cgroup: ContainerCgroup | None
    processes: int | None
    on_breach: Callable[[], None]
    tmp: Path | None = None
    memory_bytes: int | None = None
    baseline: int = 0
    forks_refused: int = 0
    oom_kills: int = 0
    _at_ceiling_since: float | None = field(default=None, repr=False)
    _refused_seen: int = field(default=0, repr=False)
    breach: Breach | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> ExecWatch:
        if self.cgroup is not None:
            self.baseline = self.cgroup.processes() or 0
            self.forks_refused = self.cgroup.forks_refused() or 0
            self.oom_kills = self.cgroup.oom_kills() or 0
        if self.quota is None and self.tmp is None and self.cgroup is None:
            return self
        self._thread = threading.Thread(target=self._run, name="labgate-exec-watch", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            found = self.check()
            if found is not None:
                self.breach = found
                self.on_breach()
                return

    def oom_killed(self) -> bool:
        """The kernel killed a process of this container for memory since `start()`."""
        return self.cgroup is not None and (self.cgroup.oom_kills() or 0) > self.oom_kills

    def check(self, *, final: bool = False) -> Breach | None:
        """The first crossed limit; `final` (the command has ended) measures the directory now."""
        if self.oom_killed():
            return Breach(
                "memory_bytes",
                f"memory_bytes: the sandbox used all of its {self.memory_bytes} bytes of memory; a process was killed",
            )
        if self.quota is not None:
            message = self.quota.check_now() if final else self.quota.check()
            if message is not None:
                return Breach(limit_name(message), message)
        if self.cgroup is not None and self.processes is not None and not final:
            held = (self.cgroup.processes() or 0) - self.baseline
            refused = (self.cgroup.forks_refused() or 0) - self.forks_refused
            now = time.monotonic()
            if held < self.processes and refused == self._refused_seen:
                self._at_ceiling_since = None
            elif self._at_ceiling_since is None:
                self._at_ceiling_since, self._refused_seen = now, refused
            elif now - self._at_ceiling_since >= CEILING_SECONDS:
                return Breach(
                    "processes",
                    f"processes: the sandbox held its limit of {self.processes} processes for {CEILING_SECONDS:g} s",
                )
        return self._check_tmp()

    def _check_tmp(self) -> Breach | None:
        if self.tmp is None:
            return None
        try:
            usage = os.statvfs(self.tmp)
        except OSError:
            return None
        if usage.f_blocks and usage.f_bavail == 0:
            size = usage.f_blocks * usage.f_frsize
            return Breach("tmp_bytes", f"tmp_bytes: the sandbox filled its {size}-byte /tmp")
        return None

    def stop(self) -> Breach | None:
        """End the polling; a last look catches a command that crossed a limit after the last poll."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.breach is None:
            self.breach = self.check(final=True)
        return self.breach
