"""ising: one checkerboard Metropolis sweep of the 2-D Ising model with a counter-based hash RNG.

Bit-exact: the random number of a site is a pure function of (key, site index), the acceptance
thresholds are integers computed by the host, so a correct kernel reproduces the reference spin
for spin. An update that is not checkerboard-ordered (a race between neighbours) cannot.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from tools.kernels._heldout import Picker, around, prime_in
from tools.kernels._task import (
    BufferSpec,
    Check,
    HostProgram,
    KernelTask,
    Launch,
    ScalarRange,
    Size,
    Work,
    buf,
    exact_check,
    grid,
    i32,
    line_blocks,
    u32,
)

BETA = 0.44
"""The default inverse temperature (near the critical 0.4407); each run draws its own (`scalar_ranges`)."""


def thresholds(beta: float) -> tuple[int, int]:
    """The thresholds t4, t8 for an energy rise of 4 and 8 at inverse temperature `beta`: exp(-dE beta) 2^32."""
    t4, t8 = (min(int(math.exp(-de * beta) * 2**32), 2**32 - 1) for de in (4, 8))
    return t4, t8


SEED = """//@params LX=16 LY=1 HALF=0
// spins[y*nx + x] in {-1, +1}, periodic. Update the sites with (x + y) % 2 == color.
uint mix32(uint x) {
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}

__kernel void ising(const int nx, const int ny, const int color, const uint t4, const uint t8,
                    __global const uint* keys, __global char* spins) {
#if HALF
    int y = get_global_id(1);
    int x = 2 * get_global_id(0) + ((y + color) & 1);
#else
    int x = get_global_id(0), y = get_global_id(1);
#endif
    if (x >= nx || y >= ny || ((x + y) & 1) != color) return;
    int i = y * nx + x;
    int s = spins[i];
    int nb = spins[y * nx + (x + 1) % nx] + spins[y * nx + (x - 1 + nx) % nx]
           + spins[((y + 1) % ny) * nx + x] + spins[((y - 1 + ny) % ny) * nx + x];
    int de = 2 * s * nb;
    uint r = mix32(keys[color] ^ mix32((uint)i));
    if (de <= 0 || r < (de == 4 ? t4 : t8)) spins[i] = (char)(-s);
}
"""


def mix32(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint32, copy=True)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


class Ising(KernelTask):
    name = "ising"
    concurrent_references = True
    title = "ising: checkerboard Metropolis Monte Carlo sweep of the 2-D Ising model, bit-exact"
    regime = "memory"
    exact = True
    contract = (
        "__kernel void ising(const int nx, const int ny, const int color, const uint t4, const uint t8, "
        "__global const uint* keys, __global char* spins): spins[y*nx + x] in {-1,+1}, periodic boundaries, "
        "nx and ny even (so that no two neighbours share a colour, across the wrap too). "
        "Update only sites with (x+y)%2 == color: nb = sum of the 4 neighbours, dE = 2*s*nb, "
        "r = mix32(keys[color] ^ mix32(y*nx + x)) with mix32(x): x^=x>>16; x*=0x7feb352d; x^=x>>15; "
        "x*=0x846ca68b; x^=x>>16 (uint arithmetic). Flip s if dE <= 0 or r < (dE == 4 ? t4 : t8). "
        "One sweep = launch with color 0, then color 1. Grid: (nx, ny), or (nx/2, ny) when HALF=1, "
        "rounded up to (LX, LY) when LX > 0. Results must match bit for bit. t4 and t8 change from run to run "
        "(exp(-4 beta) 2^32 and exp(-8 beta) 2^32 for an inverse temperature beta from 0.1 to 1)."
    )
    seed = SEED
    tunables: ClassVar[dict[str, tuple[int, ...]]] = {"LX": (16, 0, 8, 32, 64, 128), "LY": (1, 2, 4, 8), "HALF": (0, 1)}
    sizes = (Size("cache", (256, 256)), Size("l3", (1024, 1024)), Size("memory", (2048, 2048)))
    heldout = (Size("heldout", (1536, 1536)), Size("heldout-rect", (2048, 640)))
    smallest = (2, 2)
    scalar_ranges: ClassVar[dict[str, ScalarRange]] = {
        "beta": ScalarRange(
            0.1, 1.0, default=BETA, why="hot to cold phase around the critical 0.44; t4, t8 follow from it, bit-exact"
        )
    }
    fixed_scalars = "color: 0 then 1, the launch order of one sweep (part of the host program)"

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        nx, ny = size.dims
        local = (params["LX"], params["LY"]) if params["LX"] else None
        global_size, local_size = grid((nx // 2 if params["HALF"] else nx, ny), local)
        t4, t8 = thresholds(self.scalar(size, "beta"))
        launches = tuple(
            Launch(
                "ising",
                global_size,
                local_size,
                (i32(nx), i32(ny), i32(color), u32(t4), u32(t8), buf("keys"), buf("spins")),
            )
            for color in (0, 1)
        )
        return HostProgram(
            buffers=(BufferSpec("keys", "uint32", 2, "in"), BufferSpec("spins", "int8", nx * ny, "inout")),
            launches=launches,
            outputs=("spins",),
        )

    def inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        nx, ny = size.dims
        spins = np.where(rng.random(nx * ny) < 0.5, -1, 1).astype(np.int8)
        return {"keys": rng.integers(0, 2**32, 2, dtype=np.uint32), "spins": spins}

    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        nx, ny = size.dims
        spins = inputs["spins"].reshape(ny, nx).astype(np.int32)
        t4, t8 = thresholds(self.scalar(size, "beta"))
        x = np.arange(nx)
        for color in (0, 1):
            # A site of one colour reads only the other colour's sites, which this pass leaves as they are, so
            # blocks of rows are updated in place one after another, their temporaries in cache (1.4x faster
            # at 2048x2048 than whole-grid arrays; the same spins, `tests/test_kernels_stencil_references.py`).
            for first, stop in line_blocks(0, ny, nx):
                rows = np.arange(first, stop)
                block = spins[first:stop]
                nb = spins.take((rows - 1) % ny, axis=0) + spins.take((rows + 1) % ny, axis=0)
                nb += np.roll(block, 1, 1)
                nb += np.roll(block, -1, 1)
                de = 2 * block * nb
                site = (rows[:, None] * nx + x[None, :]).astype(np.uint32)
                r = mix32(mix32(site) ^ inputs["keys"][color])
                threshold = np.where(de == 4, np.uint32(t4), np.uint32(t8))
                flip = (((x[None, :] + rows[:, None]) & 1) == color) & ((de <= 0) | (r < threshold))
                spins[first:stop] = np.where(flip, -block, block)
        return {"spins": spins.astype(np.int8).reshape(-1)}

    def check(
        self, size: Size, name: str, got: np.ndarray, expected: np.ndarray, inputs: dict[str, np.ndarray]
    ) -> Check:
        return exact_check(got, expected)

    def heldout_dims(self, centre: Size, rng: np.random.Generator, pick: Picker = prime_in) -> tuple[int, ...]:
        """Even sides (a periodic checkerboard needs them): twice `pick`'s number (a prime) near half the centre."""
        return tuple(2 * pick(*around(d // 2), rng) for d in centre.dims)

    def work(self, size: Size) -> Work:
        sites = float(np.prod(size.dims))
        return Work(bytes=3.0 * sites, flops=0.0)
