"""gradshaf: a Grad-Shafranov-style step: max-reduction of psi, then one variable-coefficient Jacobi sweep.

The Jacobi update discretises d2psi/dR2 - (1/R) dpsi/dR + d2psi/dZ2 = -R^2 (1 - (psi/psi_max)^2) on a
uniform (R, Z) grid with spacing h; the source needs the global maximum, so the host runs a reduction
kernel into GROUPS partial maxima first and hands them to the sweep.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from tools.kernels._task import (
    BufferSpec,
    Check,
    HostProgram,
    KernelTask,
    Launch,
    ScalarRange,
    Size,
    Work,
    allclose_check,
    buf,
    f32,
    grid,
    i32,
)

GROUPS = 16
R0 = 1.0
WIDTH = 1.0
"""The defaults of the grid's inner radius (R0) and radial extent; each run draws its own (`scalar_ranges`)."""

SEED = """//@params LOCAL_R=64 LX=16 LY=1
__kernel void psi_max(const int n, __global const float* psi, __global float* partial) {
    __local float scratch[LOCAL_R];
    int lid = get_local_id(0);
    float m = -INFINITY;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) m = fmax(m, psi[i]);
    scratch[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LOCAL_R / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partial[get_group_id(0)] = scratch[0];
}

__kernel void jacobi(const int nr, const int nz, const float r0, const float h, const int groups,
                     __global const float* psi, __global const float* partial, __global float* out) {
    int i = get_global_id(0), j = get_global_id(1);
    if (i >= nr || j >= nz) return;
    int k = j * nr + i;
    if (i == 0 || j == 0 || i == nr - 1 || j == nz - 1) { out[k] = psi[k]; return; }
    float pmax = partial[0];
    for (int g = 1; g < groups; ++g) pmax = fmax(pmax, partial[g]);
    float r = r0 + i * h;
    float a = h / (2.0f * r);
    float q = psi[k] / pmax;
    float source = r * r * (1.0f - q * q);
    out[k] = ((1.0f - a) * psi[k + 1] + (1.0f + a) * psi[k - 1] + psi[k + nr] + psi[k - nr] + h * h * source) * 0.25f;
}
"""


class Gradshaf(KernelTask):
    name = "gradshaf"
    concurrent_references = True
    title = "gradshaf: Grad-Shafranov plasma equilibrium, max-reduction then variable-coefficient Jacobi sweep"
    regime = "memory"
    contract = (
        "Two kernels, run in order. psi_max(const int n, __global const float* psi, __global float* partial): "
        f"launched as {GROUPS} work-groups of LOCAL_R work-items; each group g writes partial[g] so that the max "
        "over partial[0..groups-1] equals max(psi). jacobi(const int nr, const int nz, const float r0, const float h, "
        "const int groups, __global const float* psi, __global const float* partial, __global float* out): "
        "psi[j*nr+i], "
        "R = r0 + i*h, pmax = max(partial), a = h/(2R), q = psi/pmax; interior: out = ((1-a)*psi[i+1] + (1+a)*psi[i-1] "
        "+ psi[j+1] + psi[j-1] + h^2 R^2 (1 - q^2)) / 4; boundary: out = psi. jacobi grid: (nr, nz) rounded up to "
        "(LX, LY) when LX > 0. "
        "r0 (0.5 to 2) and h (0.5 to 2 divided by nr - 1) change from run to run."
    )
    seed = SEED
    tunables: ClassVar[dict[str, tuple[int, ...]]] = {
        "LOCAL_R": (64, 16, 32, 128, 256),
        "LX": (16, 0, 8, 32, 64, 128),
        "LY": (1, 2, 4, 8),
    }
    sizes = (Size("cache", (128, 128)), Size("l3", (512, 512)), Size("memory", (2048, 2048)))
    heldout = (Size("heldout", (1000, 1000)), Size("heldout-rect", (1600, 400)))
    smallest = (16, 16)
    other_distributions: ClassVar[dict[str, str]] = {
        "negative": "a field negative everywhere (its maximum below 0), where the usual draw plants a positive maximum",
        "far-scale": "a field whose magnitude lies decades below or above the usual draw's (1e-6 to 1e-2, or 1e3 to "
        "1e5): the contract bounds no magnitude, and a kernel that floored |pmax| at 0.005 passed every gate",
    }
    scalar_ranges: ClassVar[dict[str, ScalarRange]] = {
        "r0": ScalarRange(0.5, 2.0, default=R0, why="a grid clear of the axis R = 0, where a = h/2R stays below 1"),
        "width": ScalarRange(
            0.5, 2.0, default=WIDTH, why="the grid's radial extent, h = width / (nr - 1): a kernel cannot derive h"
        ),
    }
    fixed_scalars = "groups: the reduction's work-group count, part of the launch (and of partial's length)"

    def spacing(self, size: Size) -> float:
        """The grid spacing h at `size`, as the kernel receives it (float32)."""
        return float(np.float32(self.scalar(size, "width") / (size.dims[0] - 1)))

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        nr, nz = size.dims
        n = nr * nz
        reduce_local = params["LOCAL_R"]
        local = (params["LX"], params["LY"]) if params["LX"] else None
        global_size, local_size = grid((nr, nz), local)
        h = self.spacing(size)
        return HostProgram(
            buffers=(
                BufferSpec("psi", "float32", n, "in"),
                BufferSpec("partial", "float32", GROUPS, "scratch"),
                BufferSpec("out", "float32", n, "out"),
            ),
            launches=(
                Launch("psi_max", (GROUPS * reduce_local,), (reduce_local,), (i32(n), buf("psi"), buf("partial"))),
                Launch(
                    "jacobi",
                    global_size,
                    local_size,
                    (
                        i32(nr),
                        i32(nz),
                        f32(self.scalar(size, "r0")),
                        f32(h),
                        i32(GROUPS),
                        buf("psi"),
                        buf("partial"),
                        buf("out"),
                    ),
                ),
            ),
            outputs=("out", "partial"),
        )

    def inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Signed values over a random magnitude, with the maximum planted at a random place.

        The maximum is 1.5-3x the bulk's scale, so it is neither 1 nor any bound a kernel could
        assume; a sweep that skips or truncates the reduction gets q = psi/pmax wrong.
        """
        n = int(np.prod(size.dims))
        scale = 10.0 ** rng.uniform(-1.0, 2.0)
        if size.distribution == "far-scale":
            scale = 10.0 ** (rng.uniform(-6.0, -2.0) if rng.random() < 0.5 else rng.uniform(3.0, 5.0))
        psi = rng.uniform(-1.0, 1.0, n) * scale
        psi[int(rng.integers(n))] = scale * rng.uniform(1.5, 3.0)
        if size.distribution == "negative":
            psi = -np.abs(psi) - scale * rng.uniform(0.1, 0.5)
        return {"psi": psi.astype(np.float32)}

    def check(
        self, size: Size, name: str, got: np.ndarray, expected: np.ndarray, inputs: dict[str, np.ndarray]
    ) -> Check:
        """`out` against the reference; `partial` must hold max(psi) exactly and nothing above it."""
        if name != "partial":
            return allclose_check(got, expected, self.tolerance(size))
        want = float(np.max(inputs["psi"]))
        values = got.astype(np.float64)
        if np.any(np.isnan(values)):
            return Check(False, math.inf, 0.0, "partial maxima contain NaN (left unwritten?)")
        top = float(np.max(values))
        ok = top == want
        detail = "" if ok else f"max over partial is {top:.9g}, max(psi) is {want:.9g}"
        return Check(ok, abs(top - want), 0.0, detail)

    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        nr, nz = size.dims
        psi = inputs["psi"].reshape(nz, nr).astype(np.float64)
        h = self.spacing(size)
        pmax = psi.max()
        r = (self.scalar(size, "r0") + np.arange(nr) * h)[None, 1:-1]
        a = h / (2.0 * r)
        q = psi[1:-1, 1:-1] / pmax
        out = psi.copy()
        out[1:-1, 1:-1] = (
            (1.0 - a) * psi[1:-1, 2:]
            + (1.0 + a) * psi[1:-1, :-2]
            + psi[2:, 1:-1]
            + psi[:-2, 1:-1]
            + h * h * r * r * (1.0 - q * q)
        ) * 0.25
        return {"out": out.reshape(-1), "partial": np.full(GROUPS, pmax)}

    def work(self, size: Size) -> Work:
        points = float(np.prod(size.dims))
        return Work(bytes=12.0 * points, flops=16.0 * points)
