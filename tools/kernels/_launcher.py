"""The worker's side of a request whose buffers the host fills (`_arena`): it launches when told, nothing more.

The worker compiles the program, makes its device buffers over the arena the host created (guards
included, in request order), runs the yardstick if asked, and says `prepared`. Then every `go` is
one run of the host program, answered by `done` with the device's own seconds; `end` closes the
request. The host writes each run's inputs and poison, and reads back its outputs, guards and inputs,
while this worker is stopped (`_placed`): the worker never receives an input, a sample position or a
variant, so there is nothing here a taken-over worker could lie about but its seconds, which the
host's bracket holds.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tools.kernels._arena import WorkerArena, buffer_bytes
from tools.kernels._backend import Backend, KernelLaunchError
from tools.kernels._host_link import Link
from tools.kernels._protocol import ProtocolError
from tools.kernels._trial import Yardstick, compile_request, launch_all, launch_list


def _run_number(header: dict[str, Any]) -> int:
    run = header.get("run")
    if header.get("op") != "go" or not isinstance(run, int) or isinstance(run, bool) or run < 0:
        raise ProtocolError(f"expected the host's go or the end of the request, got {str(header)[:200]}")
    return run


def launcher_session(
    backend: Backend, request: dict[str, Any], link: Link
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Compile, set up over the arena, say `prepared`, then launch once per `go` until `end`."""
    started = time.perf_counter()
    program, refused = compile_request(backend, request)
    if refused:
        return {"ok": False, "stage": "compile", "error": refused}, {}
    compile_seconds = time.perf_counter() - started
    arena: WorkerArena | None = None
    yardstick: Yardstick | None = None
    launched = 0.0
    try:
        started = time.perf_counter()
        backend.forget_local()
        backend.forget_launches()
        guard = int(request["guard"])
        arena = WorkerArena(str(request["arena"]), int(request["arena_bytes"]))
        views = {}
        for spec in request["buffers"]:
            nbytes = buffer_bytes(spec)
            parent = backend.alloc_host(arena.take(nbytes + 2 * guard))
            views[str(spec["name"])] = backend.region(parent, guard, nbytes)
        launches = launch_list(request, views)
        setup_seconds = time.perf_counter() - started
        yardstick = Yardstick(backend, request["yardstick"]) if request.get("yardstick") else None
        yardstick_times = yardstick.measure(int(request["repeats"])) if yardstick is not None else []
        link.tell({"op": "prepared"})
        while True:
            header, _ = link.command()
            if header.get("op") == "end":
                break
            run = _run_number(header)
            began = time.perf_counter()
            seconds = launch_all(backend, program, launches)
            launched += time.perf_counter() - began
            link.done(run, seconds)
    except KernelLaunchError as error:
        return {"ok": False, "stage": "launch", "error": str(error)}, {}
    finally:
        try:
            backend.release()
        finally:
            if arena is not None:
                arena.close()
    return {
        "ok": True,
        "compile_seconds": compile_seconds,
        "yardstick_times": yardstick_times,
        "yardstick_bytes": yardstick.bytes if yardstick is not None else 0,
        "phases": {
            "compile": compile_seconds,
            "setup": setup_seconds,
            "launch": launched,
            "yardstick": yardstick.seconds if yardstick is not None else 0.0,
        },
    }, {}
