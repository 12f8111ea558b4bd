"""Device ceiling probes: STREAM-triad bandwidth at a given working set, and FMA throughput.

They run inside the worker, on the same device and runtime as candidates, before any candidate
is loaded. Each probe tries several vector widths and keeps the best: a ceiling is what this
device can reach, so a candidate's fraction of it is honest only if the probe itself is good.
"""

from __future__ import annotations

import numpy as np

from tools.kernels._backend import Backend

TRIAD_WIDTHS = (1, 4, 16)
FMA_WIDTHS = (1, 8, 16)
FMA_OPS = ("mad", "fma")
FMA_LOCALS: tuple[tuple[int, ...] | None, ...] = (None, (64,))
FMA_CHAINS = 8
FMA_ITERATIONS = 256


def _vector(width: int) -> str:
    return "float" if width == 1 else f"float{width}"


def triad_source(width: int) -> str:
    """Two STREAM-style probes moving 12 bytes per element: triad, and its in-place form (no write-allocate)."""
    kind = _vector(width)
    return (
        f"__kernel void triad(__global {kind}* a, __global const {kind}* b, __global const {kind}* c, float s)"
        " { size_t i = get_global_id(0); a[i] = b[i] + s * c[i]; }\n"
        f"__kernel void update(__global {kind}* a, __global const {kind}* b, __global const {kind}* c, float s)"
        " { size_t i = get_global_id(0); a[i] = a[i] + s * b[i]; }\n"
    )


def fma_source(width: int, op: str = "mad") -> str:
    kind = _vector(width)
    body = "\n".join(f"    x{k} = {op}(x{k}, b, c);" for k in range(FMA_CHAINS))
    inits = " ".join(f"{kind} x{k} = ({kind})(seed + {k}.0f);" for k in range(FMA_CHAINS))
    total = " + ".join(f"x{k}" for k in range(FMA_CHAINS))
    return f"""
__kernel void fma_peak(__global {kind}* out, float b, float c, int iterations) {{
    float seed = (float)get_global_id(0);
    {inits}
    for (int i = 0; i < iterations; ++i) {{
{body}
    }}
    out[get_global_id(0)] = {total};
}}
"""


def _best_time(
    backend: Backend,
    program: object,
    kernel: str,
    items: int,
    args: list[object],
    repeats: int,
    local: tuple[int, ...] | None = None,
) -> float:
    """The fastest of `repeats` timed launches after two warm-ups.

    A ceiling is the best this device reaches, so, as STREAM reports its best rate, the fastest run
    counts: a median would file another process's load on a shared machine as the device's limit, and
    every fraction scored against it would be flattered.
    """
    times = []
    for index in range(repeats + 2):
        seconds = backend.elapsed([backend.launch(program, kernel, (items,), local, args)])
        if index >= 2:
            times.append(seconds)
    return min(times)


def bandwidth_probes(backend: Backend, nbytes: int, repeats: int = 7) -> dict[str, float]:
    """Best GB/s over vector widths of triad and of the in-place update, 3 arrays totalling `nbytes`,
    and the width each reached it with (`triad_width`, `update_width`: what a yardstick runs, `Yardstick`).

    Two numbers because they answer two questions. The triad writes a separate output, as every task's
    kernel must, so it is the ceiling a candidate's fraction is scored against. The in-place update moves
    the same 12 bytes per element without write-allocate, so it runs faster on CPUs (about 1.5x here):
    it is the fastest this device moves bytes, which is what the physics floor needs, never the yardstick
    for a kernel that cannot update in place (scored against it, the best separate-output kernel looked
    like 0.6 of the roofline).
    """
    best = {"triad": 0.0, "update": 0.0, "triad_width": 1.0, "update_width": 1.0}
    for width in [w for w in TRIAD_WIDTHS if w in backend.vector_widths]:
        count = triad_elements(nbytes, width)
        program = backend.compile(triad_source(width), {})
        a, b, c = backend.alloc(4 * count), backend.alloc(4 * count), backend.alloc(4 * count)
        backend.write(b, np.ones(count, np.float32))
        backend.write(c, np.full(count, 0.5, np.float32))
        for kernel in ("triad", "update"):
            seconds = _best_time(backend, program, kernel, count // width, [a, b, c, np.float32(1.5)], repeats)
            rate = 12 * count / seconds / 1e9
            if rate > best[kernel]:
                best[kernel], best[f"{kernel}_width"] = rate, float(width)
        backend.release()
    return best


def triad_elements(nbytes: int, width: int) -> int:
    """Floats per array of a bandwidth probe whose three arrays total about `nbytes` (whole vectors)."""
    return max(64, nbytes // (12 * width)) * width


def fma_throughput(backend: Backend, repeats: int = 5) -> float:
    """Best GFLOP/s of independent vector multiply-add chains (2 FLOPs per lane per mad/fma)."""
    info = backend.info()
    best = 0.0
    items = max(4096, info.compute_units * 2048)
    for op in FMA_OPS:
        for width in [w for w in FMA_WIDTHS if w in backend.vector_widths]:
            program = backend.compile(fma_source(width, op), {})
            out = backend.alloc(4 * width * items)
            args = [out, np.float32(0.999), np.float32(0.001), np.int32(FMA_ITERATIONS)]
            for local in FMA_LOCALS:
                seconds = _best_time(backend, program, "fma_peak", items, args, repeats, local)
                flops = 2.0 * width * FMA_CHAINS * FMA_ITERATIONS * items
                best = max(best, flops / seconds / 1e9)
            backend.release()
    return best
