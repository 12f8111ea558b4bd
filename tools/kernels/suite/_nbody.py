"""nbody: all-pairs softened gravitational acceleration (compute-bound, 20 FLOPs per pair)."""

from __future__ import annotations

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

EPS2 = 1e-2
"""The default squared softening length; each run draws its own (`scalar_ranges`)."""

SEED = """//@params LOCAL=64 TILE=0
// pos[j] = (x, y, z, mass); acc[i] = sum over j of m_j (r_j - r_i) / (|r_j - r_i|^2 + eps2)^(3/2), w = 0.
__kernel void nbody(const int n, const float eps2, __global const float4* pos, __global float4* acc) {
    int i = get_global_id(0);
    float4 pi = i < n ? pos[i] : (float4)(0.0f);
    float ax = 0.0f, ay = 0.0f, az = 0.0f;
#if TILE && LOCAL > 0
    __local float4 tile[LOCAL];
    int lid = get_local_id(0);
    for (int base = 0; base < n; base += LOCAL) {
        tile[lid] = base + lid < n ? pos[base + lid] : (float4)(0.0f);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < LOCAL; ++k) {
            float4 pj = tile[k];
            float dx = pj.x - pi.x, dy = pj.y - pi.y, dz = pj.z - pi.z;
            float inv = rsqrt(dx * dx + dy * dy + dz * dz + eps2);
            float s = pj.w * inv * inv * inv;
            ax += dx * s; ay += dy * s; az += dz * s;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#else
    for (int j = 0; j < n; ++j) {
        float4 pj = pos[j];
        float dx = pj.x - pi.x, dy = pj.y - pi.y, dz = pj.z - pi.z;
        float inv = rsqrt(dx * dx + dy * dy + dz * dz + eps2);
        float s = pj.w * inv * inv * inv;
        ax += dx * s; ay += dy * s; az += dz * s;
    }
#endif
    if (i < n) acc[i] = (float4)(ax, ay, az, 0.0f);
}
"""


class Nbody(KernelTask):
    name = "nbody"
    concurrent_references = True
    title = "nbody: all-pairs softened gravity forces of an N-body system"
    regime = "compute"
    contract = (
        "__kernel void nbody(const int n, const float eps2, __global const float4* pos, __global float4* acc): "
        "pos[j] = (x, y, z, mass). For every i < n: acc[i].xyz = sum over all j of m_j*(r_j - r_i)/"
        "(|r_j - r_i|^2 + eps2)^1.5 and acc[i].w = 0. The host launches ceil(n/LOCAL)*LOCAL work-items in "
        "groups of LOCAL (the runtime chooses when LOCAL = 0); TILE is free for the kernel's own use. "
        "n is any positive integer. eps2 changes from run to run (0.002 to 0.05)."
    )
    seed = SEED
    tunables: ClassVar[dict[str, tuple[int, ...]]] = {"LOCAL": (64, 0, 16, 32, 128, 256), "TILE": (0, 1)}
    sizes = (Size("n1024", (1024,)), Size("n2048", (2048,)), Size("n4096", (4096,)))
    heldout = (Size("heldout", (3000,)), Size("heldout-small", (1000,)))
    smallest = (1,)
    other_distributions: ClassVar[dict[str, str]] = {
        "spread-masses": "masses over four decades and one body heavier than all the rest together, "
        "where the usual draw keeps every mass within a factor 2 of 1/n",
        "far-clusters": "bodies in two to four unit boxes whose centres lie 3 to 16 units from the origin, and "
        "one to three heavy bodies (10 to 1000 times the rest's mass) 20 to 10^4 units away, where the usual "
        "draw keeps every body in the unit box around it (a kernel bounding distances at the box's diagonal "
        "passed, and then one bounding them at 40)",
    }
    scalar_ranges: ClassVar[dict[str, ScalarRange]] = {
        "eps2": ScalarRange(
            2e-3,
            5e-2,
            default=EPS2,
            why="softening of a few percent of the unit box; smaller lets close pairs dominate float32 sums",
        )
    }

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        (n,) = size.dims
        local = params["LOCAL"]
        global_size, local_size = grid((n,), (local,) if local else None)
        return HostProgram(
            buffers=(BufferSpec("pos", "float32", 4 * n, "in"), BufferSpec("acc", "float32", 4 * n, "out")),
            launches=(
                Launch(
                    "nbody", global_size, local_size, (i32(n), f32(self.scalar(size, "eps2")), buf("pos"), buf("acc"))
                ),
            ),
            outputs=("acc",),
        )

    def inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        (n,) = size.dims
        pos = np.empty((n, 4), dtype=np.float32)
        pos[:, :3] = rng.uniform(-1.0, 1.0, (n, 3))
        if size.distribution == "far-clusters":
            clusters = int(rng.integers(2, 5))
            directions = rng.normal(size=(clusters, 3))
            directions /= np.linalg.norm(directions, axis=1, keepdims=True)
            centres = directions * rng.uniform(3.0, 16.0, (clusters, 1))
            pos[:, :3] += centres[rng.integers(clusters, size=n)]
            # Distances over every scale float32 holds to the tolerance: heavy bodies far out, whose pull a bound
            # on r^2 anywhere below their distance turns into a near one (1000/1600 where 1000/10^6 is due).
            far = rng.choice(n, size=min(n, int(rng.integers(1, 4))), replace=False)
            way = rng.normal(size=(far.size, 3))
            way /= np.linalg.norm(way, axis=1, keepdims=True)
            pos[far, :3] = way * 10.0 ** rng.uniform(np.log10(20.0), 4.0, (far.size, 1))
        if size.distribution == "spread-masses":
            pos[:, 3] = 10.0 ** rng.uniform(-2.0, 2.0, n) / n
            pos[int(rng.integers(n)), 3] = rng.uniform(1.0, 4.0) * 10.0 ** rng.uniform(0.0, 2.0)
        else:
            pos[:, 3] = rng.uniform(0.5, 1.0, n) / n
        if size.distribution == "far-clusters":
            pos[far, 3] = float(pos[:, 3].sum()) * 10.0 ** rng.uniform(1.0, 3.0, far.size)
        return {"pos": pos.reshape(-1)}

    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        (n,) = size.dims
        pos = inputs["pos"].reshape(n, 4).astype(np.float64)
        x, y, z, mass = (np.ascontiguousarray(pos[:, k]) for k in range(4))
        acc = np.zeros((n, 4))
        eps2 = float(np.float32(self.scalar(size, "eps2")))
        # One coordinate at a time over blocks of 16 rows, whose temporaries (16 x n float64) stay in the core's
        # L2 cache: 1.6x faster than blocks of 128 rows at n = 4096, 6x than (rows, n, 3) arrays; the same sums
        # (each row's are its own, whatever the block).
        for start in range(0, n, 16):
            rows = slice(start, start + 16)
            dx, dy, dz = x[None, :] - x[rows, None], y[None, :] - y[rows, None], z[None, :] - z[rows, None]
            r2 = dx * dx + dy * dy + dz * dz + eps2
            weight = mass[None, :] / (r2 * np.sqrt(r2))
            for axis, d in enumerate((dx, dy, dz)):
                acc[rows, axis] = np.einsum("ij,ij->i", weight, d)
        return {"acc": acc.reshape(-1)}

    def check(
        self, size: Size, name: str, got: np.ndarray, expected: np.ndarray, inputs: dict[str, np.ndarray]
    ) -> Check:
        return allclose_check(got, expected, 2e-4)

    def work(self, size: Size) -> Work:
        (n,) = size.dims
        return Work(bytes=32.0 * n, flops=20.0 * n * n)
