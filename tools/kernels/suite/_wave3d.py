"""wave3d: one leapfrog step of the 3-D wave equation, 7-point Laplacian, zero boundary."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tools.kernels._task import (
    BufferSpec,
    HostProgram,
    KernelTask,
    Launch,
    ScalarRange,
    Size,
    Work,
    buf,
    f32,
    grid,
    i32,
    interior_blocks,
    signed_values,
)

C2 = 0.1
"""The default squared Courant number (c dt / h)^2; each run draws its own (`scalar_ranges`)."""

SEED = """//@params LX=16 LY=1 VEC=1
// Arrays are [nz][ny][nx], x fastest. Boundary points of next are 0.
__kernel void wave3d(const int nx, const int ny, const int nz, const float c2,
                     __global const float* prev, __global const float* cur, __global float* next) {
    int x0 = get_global_id(0) * VEC;
    int y = get_global_id(1);
    int z = get_global_id(2);
    if (y >= ny || z >= nz) return;
    long plane = (long)nx * ny;
    for (int k = 0; k < VEC; ++k) {
        int x = x0 + k;
        if (x >= nx) return;
        long i = z * plane + (long)y * nx + x;
        if (x == 0 || y == 0 || z == 0 || x == nx - 1 || y == ny - 1 || z == nz - 1) {
            next[i] = 0.0f;
        } else {
            float lap = cur[i - 1] + cur[i + 1] + cur[i - nx] + cur[i + nx] + cur[i - plane] + cur[i + plane]
                        - 6.0f * cur[i];
            next[i] = 2.0f * cur[i] - prev[i] + c2 * lap;
        }
    }
}
"""


class Wave3d(KernelTask):
    name = "wave3d"
    concurrent_references = True
    title = "wave3d: 7-point leapfrog step of the 3-D acoustic wave equation"
    regime = "memory"
    contract = (
        "__kernel void wave3d(const int nx, const int ny, const int nz, const float c2, __global const float* prev, "
        "__global const float* cur, __global float* next): arrays [nz][ny][nx], x fastest. Interior: "
        "next = 2*cur - prev + c2*(sum of the 6 neighbours of cur - 6*cur); boundary points: next = 0. "
        "The host launches a 3-D grid (ceil(nx/VEC), ny, nz), rounded up to (LX, LY, 1) when LX > 0. "
        "c2 changes from run to run (0.02 to 0.33)."
    )
    seed = SEED
    tunables: ClassVar[dict[str, tuple[int, ...]]] = {
        "LX": (16, 0, 8, 32, 64, 128, 256),
        "LY": (1, 2, 4, 8),
        "VEC": (1, 2, 4, 8, 16),
    }
    sizes = (Size("cache", (32, 32, 32)), Size("l3", (96, 96, 96)), Size("memory", (192, 192, 192)))
    heldout = (Size("heldout", (128, 128, 128)), Size("heldout-box", (200, 96, 64)))
    smallest = (8, 8, 8)
    scale_free_inputs = ("prev", "cur")
    scalar_ranges: ClassVar[dict[str, ScalarRange]] = {
        "c2": ScalarRange(0.02, 0.33, default=C2, why="the 3-D leapfrog scheme is stable for c2 <= 1/3")
    }

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        nx, ny, nz = size.dims
        count = nx * ny * nz
        local = (params["LX"], params["LY"], 1) if params["LX"] else None
        global_size, local_size = grid((-(-nx // params["VEC"]), ny, nz), local)
        args = (i32(nx), i32(ny), i32(nz), f32(self.scalar(size, "c2")), buf("prev"), buf("cur"), buf("next"))
        return HostProgram(
            buffers=(
                BufferSpec("prev", "float32", count, "in"),
                BufferSpec("cur", "float32", count, "in"),
                BufferSpec("next", "float32", count, "out"),
            ),
            launches=(Launch("wave3d", global_size, local_size, args),),
            outputs=("next",),
        )

    def inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        count = int(np.prod(size.dims))
        return {"prev": signed_values(count, rng), "cur": signed_values(count, rng)}

    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The update in float64, a few planes at a time (`interior_blocks`).

        Whole-grid, this reference ran four times per evaluation at 0.38 s each for the 192^3 size.
        """
        nx, ny, nz = size.dims
        cur = inputs["cur"].reshape(nz, ny, nx)
        prev = inputs["prev"].reshape(nz, ny, nx)
        out = np.zeros((nz, ny, nx))
        c2 = self.scalar(size, "c2")
        for z0, z1 in interior_blocks(nz, nx * ny):
            slab = cur[z0 - 1 : z1 + 1].astype(np.float64)
            c = slab[1:-1, 1:-1, 1:-1]
            lap = (
                slab[1:-1, 1:-1, :-2]
                + slab[1:-1, 1:-1, 2:]
                + slab[1:-1, :-2, 1:-1]
                + slab[1:-1, 2:, 1:-1]
                + slab[:-2, 1:-1, 1:-1]
                + slab[2:, 1:-1, 1:-1]
                - 6.0 * c
            )
            out[z0:z1, 1:-1, 1:-1] = 2.0 * c - prev[z0:z1, 1:-1, 1:-1].astype(np.float64) + c2 * lap
        return {"next": out.reshape(-1)}

    def work(self, size: Size) -> Work:
        count = float(np.prod(size.dims))
        return Work(bytes=12.0 * count, flops=10.0 * count)
