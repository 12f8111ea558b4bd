"""The sandboxed worker: one device context serving many evaluation requests over pipes.

It compiles candidates, allocates the buffers the host program names (with guard bytes after
each, filled with a canary the host checks), uploads the host's inputs, runs the launches once
for correctness and then for timing, and sends back raw outputs and event times. It never sees
a reference and decides nothing: every judgement happens in the trusted host.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from typing import Any, BinaryIO

import numpy as np

from tools.kernels._backend import Backend, KernelCompileError, KernelLaunchError
from tools.kernels._protocol import read_message, write_message

CANARY = 0xA5
TIMING_BUDGET = 0.25


def make_backend(name: str) -> Backend:
    if name == "cuda":
        from tools.kernels._cuda import CudaBackend

        return CudaBackend()
    from tools.kernels._opencl import OpenCLBackend

    return OpenCLBackend()


def _arg(backend_buffers: dict[str, Any], spec: dict[str, Any]) -> Any:
    ((kind, value),) = spec.items()
    if kind == "buf":
        return backend_buffers[str(value)]
    if kind == "i32":
        return np.int32(value)
    if kind == "u32":
        return np.uint32(value)
    if kind == "f32":
        return np.float32(value)
    raise ValueError(f"unknown argument kind {kind!r}")


def evaluate(
    backend: Backend, request: dict[str, Any], arrays: dict[str, np.ndarray]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    started = time.perf_counter()
    try:
        program = backend.compile(str(request["source"]), {k: int(v) for k, v in request["defines"].items()})
    except KernelCompileError as error:
        return {"ok": False, "stage": "compile", "error": error.log}, {}
    compile_seconds = time.perf_counter() - started
    guard = int(request["guard"])
    buffers: dict[str, Any] = {}
    sizes: dict[str, tuple[str, int]] = {}
    try:
        for spec in request["buffers"]:
            name, dtype, count = str(spec["name"]), str(spec["dtype"]), int(spec["count"])
            nbytes = count * np.dtype(dtype).itemsize
            buffer = backend.alloc(nbytes + guard)
            if name in arrays:
                backend.write(buffer, arrays[name].reshape(-1).view(np.uint8)[:nbytes])
            else:
                backend.write(buffer, np.zeros(nbytes, dtype=np.uint8))
            backend.write(buffer, np.full(guard, CANARY, dtype=np.uint8), offset=nbytes)
            buffers[name] = buffer
            sizes[name] = (dtype, count)
        launches = [
            (
                str(item["kernel"]),
                tuple(item["global"]),
                tuple(item["local"]) if item["local"] else None,
                [_arg(buffers, arg) for arg in item["args"]],
            )
            for item in request["launches"]
        ]

        def run_once() -> float:
            events = [backend.launch(program, kernel, grid, local, args) for kernel, grid, local, args in launches]
            return backend.elapsed(events)

        first = run_once()
        outputs: dict[str, np.ndarray] = {}
        for name in request["outputs"]:
            dtype, count = sizes[name]
            raw = np.empty(count * np.dtype(dtype).itemsize + guard, dtype=np.uint8)
            backend.read(buffers[name], raw)
            outputs[name] = raw
        for name, (dtype, count) in sizes.items():
            if name in outputs:
                continue
            nbytes = count * np.dtype(dtype).itemsize
            tail = np.empty(nbytes + guard, dtype=np.uint8)
            backend.read(buffers[name], tail)
            outputs[f"guard:{name}"] = tail[nbytes:].copy()
        # Slow kernels get fewer repeats (at least 3): a search spends its time on candidates, not on one.
        repeats = max(3, min(int(request["repeats"]), int(TIMING_BUDGET / max(first, 1e-6))))
        for _ in range(int(request["warmup"]) if first < TIMING_BUDGET else 0):
            run_once()
        times = [run_once() for _ in range(repeats)]
    except KernelLaunchError as error:
        return {"ok": False, "stage": "launch", "error": str(error)}, {}
    finally:
        backend.release()
    return {"ok": True, "compile_seconds": compile_seconds, "times": times, "first": first}, outputs


def serve(backend: Backend, inbox: BinaryIO, outbox: BinaryIO) -> None:
    while True:
        try:
            request, arrays = read_message(inbox)
        except EOFError:
            return
        op = request.get("op")
        reply: dict[str, Any]
        payload: dict[str, np.ndarray] = {}
        try:
            if op == "hello":
                info = backend.info()
                reply = {"ok": True, "device": {**info.__dict__, "key": info.key}, "pid": os.getpid()}
            elif op == "evaluate":
                reply, payload = evaluate(backend, request, arrays)
            elif op == "triad":
                from tools.kernels._probes import triad_bandwidth

                reply = {"ok": True, "gbps": triad_bandwidth(backend, int(request["bytes"]))}
            elif op == "fma":
                from tools.kernels._probes import fma_throughput

                reply = {"ok": True, "gflops": fma_throughput(backend)}
            else:
                reply = {"ok": False, "stage": "protocol", "error": f"unknown op {op!r}"}
        except Exception as error:  # noqa: BLE001 - the worker reports, the host decides
            reply = {
                "ok": False,
                "stage": "worker",
                "error": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc(limit=4),
            }
        write_message(outbox, reply, payload)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("opencl", "cuda"), default="opencl")
    args = parser.parse_args()
    # The protocol owns the original stdout; anything a runtime prints goes to stderr instead.
    outbox = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    backend = make_backend(args.backend)
    serve(backend, sys.stdin.buffer, outbox)


if __name__ == "__main__":
    main()
