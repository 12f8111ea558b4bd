"""The renderer processes driven by `tools.cfd._render_pool`: `python tools/cfd/_renderer.py --zygote FD`.

It runs as a script beside `_draw.py` and loads that module alone (numpy and matplotlib, not the
`tools` package with its store and sandboxes). Started once per run as a *zygote*, it imports
matplotlib and then only forks: each socket it receives on its control socket (FD, passed with
SCM_RIGHTS) becomes one renderer, a fork that already has matplotlib loaded, so a second renderer
costs a fork (milliseconds) instead of another import (about 0.7 s of CPU, which on a small machine
is taken from the solvers running beside it). The zygote answers each fork with the renderer's pid,
ends when its control socket closes (the run ended or died), and takes its renderers with it.

A renderer reads requests from its socket and answers on it, one pickle each way per figure: a
request names a drawing function of `_draw` with its arguments (arrays, builtins,
`types.SimpleNamespace`); the answer is None or the exception the drawing raised. Anything the
processes print goes to stderr, so it cannot garble an answer. A renderer ends when its socket closes.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import socket
import sys
from types import ModuleType
from typing import BinaryIO

DRAWINGS = frozenset(
    {"field_panels", "profile_comparison", "residuals", "field_panels_tri", "solution_panels_tri", "curves"}
)


def answer(error: BaseException | None) -> bytes:
    """The pickled answer; an exception that cannot be pickled is sent as a RuntimeError naming it."""
    try:
        return pickle.dumps(error)
    except Exception:  # noqa: BLE001 - any unpicklable exception still becomes an answer
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))


def serve(drawing: ModuleType, requests: BinaryIO, answers: BinaryIO) -> None:
    """Draw each requested figure with `drawing` (the `_draw` module) until `requests` ends."""
    drawing.pyplot()
    while True:
        try:
            name, args, kwargs = pickle.load(requests)
        except EOFError:
            return
        error: BaseException | None = None
        try:
            if name not in DRAWINGS:
                raise ValueError(f"{name!r} is not a drawing function")
            getattr(drawing, name)(*args, **kwargs)
        except Exception as raised:  # noqa: BLE001 - the caller decides what a failed figure means
            error = raised
        answers.write(answer(error))
        answers.flush()


def _reap(children: set[int]) -> None:
    """Collect the renderers that ended, so that none stays a zombie."""
    for pid in list(children):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                children.discard(pid)


def _renderer(drawing: ModuleType, control: socket.socket, connection: socket.socket) -> None:
    """In a fresh fork: serve `connection` until it closes, then leave without running the zygote's code."""
    status = 0
    try:
        control.close()
        serve(drawing, connection.makefile("rb"), connection.makefile("wb"))
    except BaseException:  # noqa: BLE001 - a renderer reports nothing more; its caller sees the socket close
        status = 1
    finally:
        os._exit(status)


def zygote(drawing: ModuleType, control: socket.socket) -> None:
    """Fork one renderer per socket received on `control` until it closes; then end every renderer."""
    drawing.pyplot()  # before any fork: every renderer starts with matplotlib loaded
    children: set[int] = set()
    try:
        while True:
            try:
                message, fds, _flags, _address = socket.recv_fds(control, 16, 1)
            except OSError:
                return
            if not message:
                return
            _reap(children)
            if not fds:
                continue
            connection = socket.socket(fileno=fds[0])
            pid = os.fork()
            if pid == 0:
                _renderer(drawing, control, connection)
            connection.close()
            children.add(pid)
            control.sendall(f"{pid}\n".encode())
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] != "--zygote" or not sys.argv[2].isdigit():
        sys.exit("usage: _renderer.py --zygote CONTROL_FD")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to stderr, never into an answer
    # A Ctrl-C or a closed terminal reaches the whole foreground process group, this process too: the run
    # then winds down (`api.cli._interrupt`) and may still draw; the zygote ends when its socket closes.
    for number in (signal.SIGINT, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)
    zygote(importlib.import_module("_draw"), socket.socket(fileno=int(sys.argv[2])))
    # Its renderers have ended. Freeing matplotlib's modules one by one took a quarter of a second that the
    # run's process waits for when it closes the zygote; nothing is left to flush but stderr.
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
