"""The sandboxed worker: one device context serving many evaluation requests over pipes.

It compiles candidates and runs each request as a trial (`_trial`): buffers with guard bytes on
both sides, poisoned outputs and restored inputs before every run, raw observations back to the
host. It never sees a reference and decides nothing: every judgement happens in the trusted host.
(A user task's reference is code too: a separate instance of this worker, which never runs a
candidate, computes it with the `reference` op, see `_reference_run`.)
The host starts it in isolated mode (`python -I`), so nothing in its writable directory is imported.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import io
import os
import sys
import traceback
from typing import Any, BinaryIO

import numpy as np

from tools.kernels._backend import Backend
from tools.kernels._host_link import VARIANT_KEY, HostLink
from tools.kernels._launcher import launcher_session
from tools.kernels._protocol import REQUEST_MARK, read_message, write_message
from tools.kernels._trial import Yardstick, calibrate, evaluate, rival_session


class WholeWrites(io.FileIO):
    """The reply pipe, unbuffered: every write goes out whole, and no copy of it stays in the worker.

    A buffered writer copies small writes (the samples of an output, a small output itself) into a
    buffer it keeps, where they would wait for the next request's kernels after the reply was sent.
    """

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        written = 0
        while written < len(view):
            written += super().write(view[written:]) or 0
        return written


def make_backend(name: str) -> Backend:
    if name == "cuda":
        from tools.kernels._cuda import CudaBackend

        return CudaBackend()
    from tools.kernels._opencl import OpenCLBackend

    return OpenCLBackend()


def _mark_stderr() -> None:
    """Flush what C code buffered for stdout (a kernel's printf), then write `REQUEST_MARK` after it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)
    with contextlib.suppress(OSError):
        sys.stderr.flush()
        os.write(2, REQUEST_MARK)


def serve(backend: Backend, inbox: BinaryIO, outbox: BinaryIO) -> None:
    while True:
        try:
            request, arrays = read_message(inbox)
        except EOFError:
            return
        _mark_stderr()
        # Each run's input variant is asked for as that run begins; every launch is clocked by the host.
        link = HostLink(inbox, outbox)
        op = request.get("op")
        reply: dict[str, Any]
        payload: dict[str, np.ndarray] = {}
        try:
            if op == "hello":
                info = backend.info()
                reply = {
                    "ok": True,
                    "device": {**info.__dict__, "key": info.key},
                    "pid": os.getpid(),
                    "shares_host_memory": backend.shares_host_memory,
                }
            elif op == "evaluate":
                inline = sorted(name for name in arrays if VARIANT_KEY.fullmatch(name))
                if inline:
                    # With every run's inputs in the request, the first run's kernel could read them all.
                    reply = {
                        "ok": False,
                        "stage": "protocol",
                        "error": f"run variants must follow the request as messages of their own, "
                        f"not inside it ({', '.join(inline[:3])}{', ...' if len(inline) > 3 else ''})",
                    }
                else:
                    reply, payload = evaluate(backend, request, arrays, link)
            elif op == "launcher":
                reply, payload = launcher_session(backend, request, link)
            elif op == "rival":
                reply, payload = rival_session(backend, request, arrays, link)
            elif op == "calibrate":
                reply = calibrate(link, int(request["runs"]))
            elif op == "yardstick":
                yardstick = Yardstick(backend, request["yardstick"])
                try:
                    times = yardstick.measure(int(request["repeats"]))
                finally:
                    backend.release()
                reply = {"ok": True, "yardstick_times": times, "yardstick_bytes": yardstick.bytes}
            elif op == "reference":
                from tools.kernels._reference_run import run_reference

                reply, payload = run_reference(backend, request, arrays)
            elif op == "triad":
                from tools.kernels._probes import bandwidth_probes

                rates = bandwidth_probes(backend, int(request["bytes"]))
                reply = {
                    "ok": True,
                    "gbps": rates["triad"],
                    "update_gbps": rates["update"],
                    "triad_width": int(rates["triad_width"]),
                    "update_width": int(rates["update_width"]),
                }
            elif op == "fma":
                from tools.kernels._probes import fma_throughput

                reply = {"ok": True, "gflops": fma_throughput(backend)}
            else:
                reply = {"ok": False, "stage": "protocol", "error": f"unknown op {op!r}"}
        except EOFError:
            return  # the host is gone mid-request
        except Exception as error:  # noqa: BLE001 - the worker reports, the host decides
            reply = {
                "ok": False,
                "stage": "worker",
                "error": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc(limit=4),
            }
        link.forget()
        write_message(outbox, reply, payload)
        # Outputs read back (the kept runs, the samples) would wait in freed memory for the next
        # request, which may be a candidate on the same inputs: they are overwritten once sent.
        for array in payload.values():
            if array.flags.writeable:
                array.fill(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("opencl", "cuda"), default="opencl")
    args = parser.parse_args()
    # The protocol owns the original stdout; anything a runtime prints goes to stderr instead.
    outbox = WholeWrites(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    backend = make_backend(args.backend)
    # Unbuffered: a buffered reader would fill itself past the message it was asked for, with the
    # next run's inputs, while the current run's kernel can read the worker's memory.
    inbox = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115 - lives as long as the worker
    serve(backend, inbox, outbox)


if __name__ == "__main__":
    main()
