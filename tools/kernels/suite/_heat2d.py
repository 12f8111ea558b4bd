"""heat2d: one explicit step of the 2-D heat equation, 5-point stencil, fixed (copied) boundary."""

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

R = 0.2
"""The default diffusion number r = D dt / h^2; each run draws its own (`scalar_ranges`)."""

SEED = """//@params LX=16 LY=1 VEC=1
// u is row-major with nx columns and ny rows; boundary cells are copied unchanged.
__kernel void heat2d(const int nx, const int ny, const float r, __global const float* u, __global float* out) {
    int x0 = get_global_id(0) * VEC;
    int y = get_global_id(1);
    if (y >= ny) return;
    for (int k = 0; k < VEC; ++k) {
        int x = x0 + k;
        if (x >= nx) return;
        int i = y * nx + x;
        if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1) {
            out[i] = u[i];
        } else {
            out[i] = u[i] + r * (u[i - 1] + u[i + 1] + u[i - nx] + u[i + nx] - 4.0f * u[i]);
        }
    }
}
"""


class Heat2d(KernelTask):
    name = "heat2d"
    concurrent_references = True
    title = "heat2d: 5-point explicit diffusion step of the 2-D heat equation"
    regime = "memory"
    contract = (
        "__kernel void heat2d(const int nx, const int ny, const float r, __global const float* u, "
        "__global float* out): u and out are row-major (index y*nx + x). Interior cells: "
        "out = u + r*(left + right + up + down - 4u); boundary cells (x or y on the edge): out = u. "
        "The host launches a 2-D grid (ceil(nx/VEC), ny), rounded up to the work-group (LX, LY) when LX > 0. "
        "nx and ny differ in general. r changes from run to run (0.05 to 0.25)."
    )
    seed = SEED
    tunables: ClassVar[dict[str, tuple[int, ...]]] = {
        "LX": (16, 0, 8, 32, 64, 128, 256),
        "LY": (1, 2, 4, 8),
        "VEC": (1, 2, 4, 8, 16),
    }
    sizes = (Size("cache", (256, 256)), Size("l3", (1024, 1024)), Size("memory", (3072, 3072)))
    heldout = (Size("heldout", (1800, 1800)), Size("heldout-rect", (2900, 700)))
    smallest = (8, 8)
    scale_free_inputs = ("u",)
    scalar_ranges: ClassVar[dict[str, ScalarRange]] = {
        "r": ScalarRange(0.05, 0.25, default=R, why="the explicit 5-point scheme is stable for r <= 1/4")
    }

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        nx, ny = size.dims
        local = (params["LX"], params["LY"]) if params["LX"] else None
        global_size, local_size = grid((-(-nx // params["VEC"]), ny), local)
        return HostProgram(
            buffers=(BufferSpec("u", "float32", nx * ny, "in"), BufferSpec("out", "float32", nx * ny, "out")),
            launches=(
                Launch(
                    "heat2d",
                    global_size,
                    local_size,
                    (i32(nx), i32(ny), f32(self.scalar(size, "r")), buf("u"), buf("out")),
                ),
            ),
            outputs=("out",),
        )

    def inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        nx, ny = size.dims
        return {"u": signed_values(nx * ny, rng)}

    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The update in float64, a block of rows at a time (`interior_blocks`)."""
        nx, ny = size.dims
        grid = inputs["u"].reshape(ny, nx)
        out = grid.astype(np.float64)
        r = self.scalar(size, "r")
        for y0, y1 in interior_blocks(ny, nx):
            u = grid[y0 - 1 : y1 + 1].astype(np.float64)
            lap = u[1:-1, :-2] + u[1:-1, 2:]
            lap += u[:-2, 1:-1]
            lap += u[2:, 1:-1]
            centre = u[1:-1, 1:-1]
            lap -= centre * 4.0
            lap *= r
            np.add(centre, lap, out=out[y0:y1, 1:-1])
        return {"out": out.reshape(-1)}

    def work(self, size: Size) -> Work:
        nx, ny = size.dims
        return Work(bytes=8.0 * nx * ny, flops=7.0 * (nx - 2) * (ny - 2))
