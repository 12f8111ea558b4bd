"""Figures drawn in renderer processes, so that drawing does not hold the run's interpreter.

Drawing a case's figures is pure Python (matplotlib's layout and Agg) and costs about as much CPU
as the solver of a small case. In the run's own process it holds the GIL, so two experiments
finishing together drew one after the other while the gates, the store and the next case's set-up
waited behind them: a sweep on two workers could not use two cores. Renderer processes
(`tools/cfd/_renderer.py`, up to one per core) draw in parallel with each other and with everything
the run does meanwhile. They are forks of one zygote process, started while the first solver runs,
that imports matplotlib once: a run with one experiment pays for one import, and every further
renderer costs a fork.

Inside `figures_together()` every figure is handed to a renderer and the caller goes on at once;
leaving the block waits for every one of them and raises the first failure, so the figures are on
disk before any outcome that lists them exists (the gates and the vision judge read them then,
as before). Outside the block, drawing waits for its figure. A renderer that dies (killed, out of
memory) is dropped and its figure drawn in this process instead. Figures drawn from the main
thread, or with `LABGATE_FIGURE_PROCESSES=0`, are drawn in the calling thread.

Renderers are this host's own trusted processes, forks of a zygote started as a script (never a
fork of the run, which has threads, and never a re-import of the caller's script as
multiprocessing's `spawn` would do); they read no untrusted file, only the arrays the harness already parsed, and each
request writes one PNG.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runs import LabgateError

PROCESSES_VARIABLE = "LABGATE_FIGURE_PROCESSES"
RENDERER = Path(__file__).resolve().with_name("_renderer.py")
"""Run as a script beside `_draw.py`, so a renderer loads the drawing module of this same tree alone."""

Draw = Callable[..., None]


class RendererDiedError(LabgateError, RuntimeError):
    """A renderer process ended while drawing (killed, out of memory)."""


class _Zygote:
    """The process that imported matplotlib once and forks each renderer (see `tools.cfd._renderer`)."""

    def __init__(self) -> None:
        self.control, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, str(RENDERER), "--zygote", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
            )
        except OSError:
            self.control.close()
            raise
        finally:
            theirs.close()
        self.answers = self.control.makefile("rb")
        self.lock = threading.Lock()

    def fork(self) -> _Renderer:
        """A new renderer: one end of a fresh socket pair is handed to the zygote, which forks onto it."""
        ours, theirs = socket.socketpair()
        try:
            with self.lock:
                socket.send_fds(self.control, [b"r"], [theirs.fileno()])
                line = self.answers.readline()
        except OSError as failure:
            ours.close()
            raise RendererDiedError(f"figure renderer zygote {self.process.pid} ended: {failure}") from failure
        finally:
            theirs.close()
        if not line.strip().isdigit():
            ours.close()
            raise RendererDiedError(f"figure renderer zygote {self.process.pid} ended")
        return _Renderer(ours, int(line))

    def close(self) -> None:
        """End the zygote (it ends when its control socket closes) and, with it, every renderer it forked."""
        for closing in (self.answers, self.control):
            with contextlib.suppress(OSError):
                closing.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Renderer:
    """One renderer (a fork of the zygote) and the socket to it."""

    def __init__(self, connection: socket.socket, pid: int) -> None:
        self.connection = connection
        self.pid = pid
        self.requests = connection.makefile("wb")
        self.answers = connection.makefile("rb")

    def draw(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> BaseException | None:
        try:
            self.requests.write(pickle.dumps((name, args, kwargs)))
            self.requests.flush()
            error: BaseException | None = pickle.load(self.answers)
        except (OSError, EOFError, pickle.UnpicklingError) as failure:
            self.close()
            raise RendererDiedError(f"figure renderer {self.pid} ended: {failure}") from failure
        return error

    def close(self) -> None:
        """Close the socket: the renderer ends when it reads the end of its requests."""
        for closing in (self.requests, self.answers, self.connection):
            with contextlib.suppress(OSError):  # a dead renderer's socket cannot take the buffered rest
                closing.close()


class _Renderers:
    """Up to `count` renderers, forked on demand; each waiting thread of `threads` drives one at a time."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.threads = ThreadPoolExecutor(count, thread_name_prefix="figure")
        self.idle: queue.SimpleQueue[_Renderer] = queue.SimpleQueue()
        self.started: list[_Renderer] = []
        self.zygote: _Zygote | None = None
        self.lock = threading.Lock()

    def start(self) -> _Zygote:
        """Start the zygote now (it imports matplotlib); renderers are forked from it when figures come."""
        with self.lock:
            if self.zygote is None:
                self.zygote = _Zygote()
            return self.zygote

    def _take(self) -> _Renderer:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            pass
        renderer = self.start().fork()
        with self.lock:
            self.started.append(renderer)
        return renderer

    def _draw(self, function: Draw, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            renderer = self._take()
        except (OSError, RendererDiedError):  # no renderer could be had: draw here
            function(*args, **kwargs)
            return
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
            zygote, self.zygote = self.zygote, None
        for renderer in started:
            renderer.close()
        if zygote is not None:
            zygote.close()


_lock = threading.Lock()
_pool: _Renderers | None = None
_local = threading.local()


def renderer_count() -> int:
    """How many renderer processes to keep: LABGATE_FIGURE_PROCESSES, else one per core."""
    configured = os.environ.get(PROCESSES_VARIABLE, "").strip()
    if configured.isdigit():
        return int(configured)
    return os.cpu_count() or 1


def _renderers(*, for_experiment_threads: bool = False) -> _Renderers | None:
    """The process-wide renderers (made on first use), or None when figures are drawn in-thread.

    Renderers serve experiments that share this interpreter, which the local executor runs in
    threads. Drawing from the main thread (a Ray worker's task, one experiment per process; a
    single `check-case`) stays in that thread, where nothing else waits for the interpreter and
    starting renderers would cost more than it saves; `for_experiment_threads` is the run saying,
    from its main thread, that its experiments will run in threads.
    """
    global _pool
    if threading.current_thread() is threading.main_thread() and not for_experiment_threads:
        return None
    with _lock:
        if _pool is None and renderer_count() > 0:
            _pool = _Renderers(renderer_count())
            atexit.register(_pool.close)
        return _pool


def start_renderers(*, for_experiment_threads: bool = False) -> bool:
    """Start the renderers now, for example while a solver runs; False when figures are drawn in-thread."""
    pool = _renderers(for_experiment_threads=for_experiment_threads)
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
