"""Live solver progress: while a CFD experiment's solver runs, its log's end is read every few seconds and
the latest simulated time, time step and residuals are announced as `progress` events of the run.

The watcher lives beside the workload's `run`, not inside it: the workload stays a plain function of the
experiment, and the host only reads what the sandbox writes, through the untrusted tail reader (no link
followed, a bounded read of the end whatever the log's size). Events are rate-limited per experiment and
stop when the solver's log says it ended, or at the latest when `run` returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from runs import ExperimentSpec, LabgateError, UntrustedFileError
from tools import Workload
from tools.cfd import CfdWorkload, SolverProgress, read_solver_progress

PROGRESS_SECONDS = 2.0
"""The least time between two progress events of one experiment."""


def solver_log_of(workload: Workload, spec: ExperimentSpec) -> str | None:
    """The name of the solver log the experiment's case will write (`log.icoFoam`), or None when the
    workload is not the CFD one or the parameters name no case (the run itself then says why)."""
    if not isinstance(workload, CfdWorkload):
        return None
    try:
        return workload.definition(spec.params).solver_log
    except (LabgateError, ValueError, KeyError, TypeError):
        return None


class SolverWatcher:
    """Reads `log` (below `case`) every `interval` seconds and reports each new state to `report`."""

    def __init__(
        self,
        case: Path,
        log: str,
        report: Callable[[SolverProgress], None],
        *,
        interval: float = PROGRESS_SECONDS,
    ) -> None:
        self.case = case
        self.log = log
        self.report = report
        self.interval = interval
        self.reported = 0
        self.refusal = ""
        """Why watching stopped early (a refused log, a failing report); "" otherwise."""
        self._stop = threading.Event()
        self._last: SolverProgress | None = None
        self._thread = threading.Thread(target=self._watch, name=f"solver-progress {log}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def watching(self) -> bool:
        """Whether the watcher still reads the log (False once the solver ended, or after `stop`)."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop watching and wait for the watcher (at most one read and one report) to finish."""
        self._stop.set()
        self._thread.join()

    def poll(self) -> SolverProgress | None:
        """Read the log once; report its state when it changed since the last report. Returns what was read."""
        try:
            progress = read_solver_progress(self.case / self.log, within=self.case)
        except UntrustedFileError as error:
            # A linked or special log is refused here as the gates refuse it later; stop watching.
            self.refusal = str(error)
            self._stop.set()
            return None
        if progress is None or progress.time is None or progress == self._last:
            return progress
        self._last = progress
        try:
            self.report(progress)
        except Exception as error:  # noqa: BLE001 - progress is a courtesy: the experiment must not fail for it
            self.refusal = f"reporting progress failed: {type(error).__name__}: {error}"
            return progress
        self.reported += 1
        return progress

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            progress = self.poll()
            if progress is not None and progress.ended:
                return


@contextmanager
def watch_solver(
    case: Path, log: str, report: Callable[[SolverProgress], None], *, interval: float = PROGRESS_SECONDS
) -> Iterator[SolverWatcher]:
    """Watch the solver log `case/log` while the body runs (a failing report never fails the experiment)."""
    watcher = SolverWatcher(case, log, report, interval=interval)
    watcher.start()
    try:
        yield watcher
    finally:
        watcher.stop()
