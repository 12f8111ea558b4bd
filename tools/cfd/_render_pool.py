"""Figures drawn in renderer processes, so that drawing does not hold the run's interpreter.

Drawing a case's figures is pure Python (matplotlib's layout and Agg) and costs about as much CPU
as the solver of a small case. In the run's own process it holds the GIL, so two experiments
finishing together drew one after the other while the gates, the store and the next case's set-up
waited behind them: a sweep on two workers could not use two cores. Renderer processes
(`tools/cfd/_renderer.py`, one per core, started while the first solver runs) draw in parallel with
each other and with everything the run does meanwhile.

Inside `figures_together()` every figure is handed to a renderer and the caller goes on at once;
leaving the block waits for every one of them and raises the first failure, so the figures are on
disk before any outcome that lists them exists (the gates and the vision judge read them then,
as before). Outside the block, drawing waits for its figure. A renderer that dies (killed, out of
memory) is dropped and its figure drawn in this process instead. Figures drawn from the main
thread, or with `LABGATE_FIGURE_PROCESSES=0`, are drawn in the calling thread.

Renderers are this host's own trusted processes, started as a script (never a fork of the run,
which has threads, and never a re-import of the caller's script as multiprocessing's `spawn`
would do); they read no untrusted file, only the arrays the harness already parsed, and each
request writes one PNG.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from runs import LabgateError

PROCESSES_VARIABLE = "LABGATE_FIGURE_PROCESSES"
RENDERER = Path(__file__).resolve().with_name("_renderer.py")
"""Run as a script beside `_draw.py`, so a renderer loads the drawing module of this same tree alone."""

Draw = Callable[..., None]


class RendererDiedError(LabgateError, RuntimeError):
    """A renderer process ended while drawing (killed, out of memory)."""


class _Renderer:
    """One renderer process and the two pipes to it."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(RENDERER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def draw(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> BaseException | None:
        requests: IO[bytes] | None = self.process.stdin
        answers: IO[bytes] | None = self.process.stdout
        assert requests is not None and answers is not None
        try:
            requests.write(pickle.dumps((name, args, kwargs)))
            requests.flush()
            error: BaseException | None = pickle.load(answers)
        except (OSError, EOFError, pickle.UnpicklingError) as failure:
            self.close()
            raise RendererDiedError(f"figure renderer {self.process.pid} ended: {failure}") from failure
        return error

    def close(self) -> None:
        """End the process (it exits when its requests end) and reap it."""
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):  # a dead renderer's pipe cannot take the buffered rest
                    pipe.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Renderers:
    """Up to `count` renderers; each waiting thread of `threads` drives one of them at a time."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.threads = ThreadPoolExecutor(count, thread_name_prefix="figure")
        self.idle: queue.SimpleQueue[_Renderer] = queue.SimpleQueue()
        self.started: list[_Renderer] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start every renderer now; they import matplotlib side by side."""
        with self.lock:
            missing = self.count - len(self.started)
            fresh = [_Renderer() for _ in range(missing)]
            self.started += fresh
        for renderer in fresh:
            self.idle.put(renderer)

    def _take(self) -> _Renderer:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            renderer = _Renderer()
            with self.lock:
                self.started.append(renderer)
            return renderer

    def _draw(self, function: Draw, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        renderer = self._take()
        try:
            error = renderer.draw(function.__name__, args, kwargs)
        except RendererDiedError:
            with self.lock:
                self.started.remove(renderer)
            function(*args, **kwargs)  # drawn here instead
            return
        self.idle.put(renderer)
        if error is not None:
            raise error

    def submit(self, function: Draw, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Future[None]:
        return self.threads.submit(self._draw, function, args, kwargs)

    def close(self) -> None:
        self.threads.shutdown(wait=False, cancel_futures=True)
        with self.lock:
            started, self.started = self.started, []
        for renderer in started:
            renderer.close()


_lock = threading.Lock()
_pool: _Renderers | None = None
_local = threading.local()


def renderer_count() -> int:
    """How many renderer processes to keep: LABGATE_FIGURE_PROCESSES, else one per core."""
    configured = os.environ.get(PROCESSES_VARIABLE, "").strip()
    if configured.isdigit():
        return int(configured)
    return os.cpu_count() or 1


def _renderers() -> _Renderers | None:
    """The process-wide renderers (made on first use), or None when figures are drawn in-thread.

    Renderers serve experiments that share this interpreter, which the local executor runs in
    threads. Drawing from the main thread (a Ray worker's task, one experiment per process; a
    single `check-case`) stays in that thread, where nothing else waits for the interpreter and
    starting renderers would cost more than it saves.
    """
    global _pool
    if threading.current_thread() is threading.main_thread():
        return None
    with _lock:
        if _pool is None and renderer_count() > 0:
            _pool = _Renderers(renderer_count())
            atexit.register(_pool.close)
        return _pool


def start_renderers() -> bool:
    """Start the renderers now, for example while a solver runs; False when figures are drawn in-thread."""
    pool = _renderers()
    if pool is None:
        return False
    try:
        pool.start()
    except OSError:  # no process could be started: draw in this process
        return False
    return True


def draw(function: Draw, *args: Any, **kwargs: Any) -> None:
    """`function(*args, **kwargs)` in a renderer: handed over inside `figures_together()`, else waited for.

    `function` is a drawing function of `tools.cfd._draw`; a renderer runs its namesake.
    """
    pool = _renderers()
    if pool is None:
        function(*args, **kwargs)
        return
    try:
        future = pool.submit(function, args, kwargs)
    except RuntimeError:  # the interpreter is shutting down
        function(*args, **kwargs)
        return
    batch: list[Future[None]] | None = getattr(_local, "batch", None)
    if batch is None:
        future.result()
    else:
        batch.append(future)


@contextmanager
def figures_together() -> Iterator[None]:
    """Figures drawn inside are drawn in parallel; leaving waits for all of them (first failure raised).

    When the block itself fails, its figures are still waited for (no renderer writes into the
    experiment's directory afterwards) and the block's own error is the one raised.
    """
    outer: list[Future[None]] | None = getattr(_local, "batch", None)
    batch: list[Future[None]] = []
    _local.batch = batch
    try:
        yield
    except BaseException:
        _local.batch = outer
        _wait_all(batch)
        raise
    _local.batch = outer
    failure = _wait_all(batch)
    if failure is not None:
        raise failure


def _wait_all(batch: list[Future[None]]) -> BaseException | None:
    """Wait for every pending figure; the first failure, if any."""
    failure: BaseException | None = None
    for future in batch:
        error = future.exception()
        failure = failure or error
    return failure
