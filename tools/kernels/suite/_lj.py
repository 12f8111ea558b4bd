"""lj: Lennard-Jones forces with cell lists in a periodic box (sigma = epsilon = 1, cutoff up to 2.5).

The host (trusted) bins particles into cells at least one cutoff wide and sorts them by cell, so
a kernel needs only the 27 surrounding cells; the reference uses the same binning in float64.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from tools.kernels._heldout import Picker, around, prime_in
from tools.kernels._task import (
    ALLOWED_ERROR,
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

RC = 2.5
"""The default cutoff and the cells' least width: every drawn cutoff is at most this (`CUTOFFS`)."""
DENSITY = 0.8
SPACING = DENSITY ** (-1.0 / 3.0)
CUTOFFS = (2.01, 2.28, RC)
"""The cutoffs a run draws from, one in each gap between the lattice's neighbour shells at sqrt(3), sqrt(4),
sqrt(5) and sqrt(6) spacings (1.87, 2.15, 2.41, 2.64), at least 0.09 from either side (see JITTER): which
shells are inside is all a cutoff changes, so these three are every distinct answer the cells allow."""
INTERACTIONS_PER_PARTICLE = 4.0 / 3.0 * math.pi * RC**3 * DENSITY
"""Pairs a particle's force examines within the cells' width: the work counted whatever the cutoff, since a
kernel scans the same 27 cells and tests the same distances at every cutoff (a rate that moved with the drawn
cutoff would make candidates' fitness depend on their draw)."""
FLOPS_PER_INTERACTION = 23.0
JITTER = 0.02
"""Lattice jitter (in lattice spacings). Pair distances then stay within 0.075 of the lattice shells at
sqrt(5) and sqrt(6) spacings (2.41 and 2.64), so no pair lies near the 2.5 cutoff where float32 and
float64 could disagree about including it."""

SEED = """//@params LOCAL=64
// pos[i] = (x, y, z, 0) sorted by cell; cell[i] = its cell (cx + ncx*(cy + ncy*cz)); particles of cell c are
// start[c] .. start[c+1]-1. Periodic box lx * ly * lz (minimum image); cells are at least the cutoff wide.
__kernel void lj(const int n, const int ncx, const int ncy, const int ncz,
                 const float lx, const float ly, const float lz, const float rc2,
                 __global const float4* pos, __global const int* cell, __global const int* start,
                 __global float4* force) {
    int i = get_global_id(0);
    if (i >= n) return;
    float4 pi = pos[i];
    int c = cell[i];
    int cx = c % ncx, cy = (c / ncx) % ncy, cz = c / (ncx * ncy);
    float fx = 0.0f, fy = 0.0f, fz = 0.0f;
    for (int dz = -1; dz <= 1; ++dz)
    for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) {
        int nc = (cx + dx + ncx) % ncx + ncx * ((cy + dy + ncy) % ncy + ncy * ((cz + dz + ncz) % ncz));
        for (int j = start[nc]; j < start[nc + 1]; ++j) {
            if (j == i) continue;
            float4 pj = pos[j];
            float rx = pi.x - pj.x, ry = pi.y - pj.y, rz = pi.z - pj.z;
            rx -= lx * rint(rx / lx); ry -= ly * rint(ry / ly); rz -= lz * rint(rz / lz);
            float r2 = rx * rx + ry * ry + rz * rz;
            if (r2 < rc2) {
                float inv2 = 1.0f / r2;
                float inv6 = inv2 * inv2 * inv2;
                float f = 24.0f * inv2 * inv6 * (2.0f * inv6 - 1.0f);
                fx += f * rx; fy += f * ry; fz += f * rz;
            }
        }
    }
    force[i] = (float4)(fx, fy, fz, 0.0f);
}
"""


TOLERANCE = 1e-4
"""Each force may be off by this fraction of the sum of its pair forces' magnitudes, the scale its float32
rounding follows (`reference` gives the bound per particle). A fraction of the largest force instead let
every particle away from `compressed`'s close pairs (forces to 10^15) be off by 10^11: a kernel reading at
most 28 particles of a cell passed 1 to 4 draws in 12 at that distribution's sizes."""
CUTOFF_AMBIGUITY = 1e-5
"""Pairs whose r^2 is this close (relatively) to the cutoff's: float32 and float64 may disagree about
including them, so their whole force is allowed on top (r^2 in float32 is within about 1e-6 of float64's)."""

COMPRESSION = (0.3, 0.4)
"""Amplitudes of the `compressed` distribution's displacement along each axis: the lattice's spacing then
ranges from 1 - a to 1 + a times its own along every axis, so the cells of the dense part hold up to 36-64
particles where the usual draw's fullest holds 27, and the closest pairs sit near 0.6 to 0.7 (forces of
4000 to 20000). With amplitudes up to 0.25 the fullest cell held 27-30 and a kernel reading at most 28 of a
cell's particles passed two draws in six."""


def compressed(positions: np.ndarray, lengths: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The lattice squeezed and stretched by a smooth periodic displacement, one wave along each axis.

    The usual draw keeps every cell's count and every pair distance near the lattice's own (one particle per
    lattice point, distances within 0.075 of the shells): a kernel that assumed cells of at most the usual
    count (a fixed local array per cell) or distances above the nearest shell (a clamp of r^2 near 1) was
    right on all of them. Here counts and distances vary continuously. A cutoff now falls between pairs
    anywhere, and float32 and float64 can disagree about a pair right at it: that pair's force (about 0.04) is
    allowed on top of the particle's own bound (`CUTOFF_AMBIGUITY`).
    """
    amplitude = rng.uniform(*COMPRESSION, 3)
    phase = rng.uniform(0.0, 2.0 * np.pi, 3)
    wave = 2.0 * np.pi * positions / lengths + phase
    moved: np.ndarray = positions + amplitude * lengths / (2.0 * np.pi) * (np.sin(wave) - np.sin(phase))
    return moved


CLOSE_PAIRS = (1, 4)
"""How many particles of a `compressed` draw are moved next to another, 0.1 to 0.9 apart (log-uniform)."""


def close_pairs(positions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A few particles moved next to others: distances down to 0.1, where the squeezed lattice keeps every pair
    above about 0.6 (a kernel treating r^2 below 0.25 as 0.25 passed it). Forces reach 10^15 there, well inside
    float32, and the tolerance, a fraction of the largest force, follows them."""
    moved = positions.copy()
    count = min(len(moved) // 2, int(rng.integers(CLOSE_PAIRS[0], CLOSE_PAIRS[1] + 1)))
    chosen = rng.choice(len(moved), size=2 * count, replace=False)
    way = rng.normal(size=(count, 3))
    way /= np.linalg.norm(way, axis=1, keepdims=True)
    apart = 10.0 ** rng.uniform(-1.0, np.log10(0.9), (count, 1))
    moved[chosen[count:]] = moved[chosen[:count]] + way * apart
    return moved


def lattice(size: Size) -> tuple[tuple[int, int, int], np.ndarray]:
    """Cells per side (as many as fit, each at least the cutoff wide) and the box lengths (float32 values)."""
    lengths = np.array([float(np.float32(m * SPACING)) for m in size.dims])
    counts = [int(length // RC) for length in lengths]
    if min(counts) < 3:
        raise ValueError(f"lj size {size.describe()} is too small: every side needs at least 3 cells of width {RC}")
    return (counts[0], counts[1], counts[2]), lengths


def _cell_pairs(start: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j), i != j, with i in cell c and j in cell other[c], for all cells c at once.

    Particles are sorted by cell, cell c holding start[c] .. start[c+1]-1; cell c contributes its count times
    its partner's count pairs, i-major.
    """
    counts = np.diff(start)
    partners = counts[other]
    per_cell = counts * partners
    cell = np.repeat(np.arange(len(counts)), per_cell)
    rank = np.arange(int(per_cell.sum())) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    width = partners[cell]
    own = start[cell] + rank // width
    partner = start[other[cell]] + rank % width
    keep = own != partner
    return own[keep], partner[keep]


class LennardJones(KernelTask):
    name = "lj"
    concurrent_references = True
    title = "lj: Lennard-Jones forces with cell lists (molecular dynamics)"
    regime = "compute"
    whole_variants = True
    contract = (
        "__kernel void lj(const int n, const int ncx, const int ncy, const int ncz, const float lx, const float ly, "
        "const float lz, const float rc2, __global const float4* pos, __global const int* cell, "
        "__global const int* start, "
        "__global float4* force): particles sorted by cell, cell[i] = cx + ncx*(cy + ncy*cz), cell c holds "
        "particles start[c]..start[c+1]-1; periodic box lx*ly*lz split into ncx*ncy*ncz cells (at least the cutoff "
        "wide, so the 27 neighbouring cells hold every partner). For each i: force[i].xyz = sum over j != i with "
        "minimum-image r = r_i - r_j and |r|^2 < rc2 of 24 (2/r^14 - 1/r^8) r, and force[i].w = 0. "
        "Grid: ceil(n/LOCAL)*LOCAL work-items (runtime's choice when LOCAL = 0). rc2 changes from run to run "
        "(cutoffs 2.01, 2.28 or 2.5; cells are built at least 2.5 wide)."
    )
    seed = SEED
    tunables: ClassVar[dict[str, tuple[int, ...]]] = {"LOCAL": (64, 0, 16, 32, 128, 256)}
    sizes = (Size("n1728", (12, 12, 12)), Size("n5832", (18, 18, 18)), Size("n13824", (24, 24, 24)))
    heldout = (Size("heldout", (20, 20, 20)), Size("heldout-box", (28, 16, 12)))
    other_distributions: ClassVar[dict[str, str]] = {
        "compressed": "the lattice squeezed and stretched by a smooth wave along each axis (spacings 0.6 to 1.4 of "
        "its own), and a few particles moved 0.1 to 0.9 from another: cells up to 64 particles where the usual "
        "draw's fullest holds 27, and pair distances anywhere from 0.1 up, where the usual draw keeps every "
        "distance near a lattice shell"
    }
    scalar_ranges: ClassVar[dict[str, ScalarRange]] = {
        "rc": ScalarRange(
            min(CUTOFFS),
            RC,
            default=RC,
            choices=CUTOFFS,
            why="no larger than the cells' width; each between two neighbour shells, so float32 and float64 "
            "agree on every pair",
        )
    }
    fixed_scalars = "ncx, ncy, ncz, lx, ly, lz: the box and its cells, which the host builds from the size"

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        n = int(np.prod(size.dims))
        (ncx, ncy, ncz), lengths = lattice(size)
        cells = ncx * ncy * ncz
        local = params["LOCAL"]
        global_size, local_size = grid((n,), (local,) if local else None)
        args = (
            i32(n),
            i32(ncx),
            i32(ncy),
            i32(ncz),
            f32(lengths[0]),
            f32(lengths[1]),
            f32(lengths[2]),
            f32(self.scalar(size, "rc") ** 2),
            buf("pos"),
            buf("cell"),
            buf("start"),
            buf("force"),
        )
        return HostProgram(
            buffers=(
                BufferSpec("pos", "float32", 4 * n, "in"),
                BufferSpec("cell", "int32", n, "in"),
                BufferSpec("start", "int32", cells + 1, "in"),
                BufferSpec("force", "float32", 4 * n, "out"),
            ),
            launches=(Launch("lj", global_size, local_size, args),),
            outputs=("force",),
        )

    def inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        mx, my, mz = size.dims
        (ncx, ncy, ncz), lengths = lattice(size)
        grid_points = np.stack(np.meshgrid(np.arange(mx), np.arange(my), np.arange(mz), indexing="ij"), -1).reshape(
            -1, 3
        )
        # The whole lattice shifted by a random offset (wrapped around the periodic box) and the particles
        # of each cell in a random order: distances stay a jittered lattice's, but which cell holds how many
        # particles and where each sits in the arrays change with every draw, so no kernel can find its
        # partners by fixed index offsets from the lattice's own order.
        shift = rng.uniform(0.0, SPACING, 3)
        positions = (grid_points + 0.5 + rng.uniform(-JITTER, JITTER, grid_points.shape)) * SPACING + shift
        if size.distribution == "compressed":
            positions = close_pairs(compressed(positions, lengths, rng), rng)
        positions %= lengths
        positions = np.minimum(positions.astype(np.float32), lengths.astype(np.float32) * np.float32(0.99999))
        index = np.floor(positions / (lengths / np.array([ncx, ncy, ncz]))).astype(np.int64)
        index = np.minimum(index, np.array([ncx, ncy, ncz]) - 1)
        cell = index[:, 0] + ncx * (index[:, 1] + ncy * index[:, 2])
        shuffled = rng.permutation(len(cell))
        order = shuffled[np.argsort(cell[shuffled], kind="stable")]
        pos = np.zeros((len(order), 4), dtype=np.float32)
        pos[:, :3] = positions[order]
        start = np.searchsorted(cell[order], np.arange(ncx * ncy * ncz + 1)).astype(np.int32)
        return {"pos": pos.reshape(-1), "cell": cell[order].astype(np.int32), "start": start}

    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Forces in float64 over the pairs of each cell with each of its 27 neighbours, one offset at a time.

        The pairs are listed exactly (`_cell_pairs`), not padded to the fullest cell: a padded layout did four
        times the pairs there are and made this reference 95 % of an lj evaluation's time.
        """
        (ncx, ncy, ncz), lengths = lattice(size)
        pos = inputs["pos"].reshape(-1, 4)[:, :3].astype(np.float64)
        axes = [np.ascontiguousarray(pos[:, axis]) for axis in range(3)]
        start = inputs["start"].astype(np.int64)
        cells = np.arange(len(start) - 1)
        cx, cy, cz = cells % ncx, (cells // ncx) % ncy, cells // (ncx * ncy)
        n = len(pos)
        force = np.zeros_like(pos)
        terms = np.zeros(n)  # per particle, the sum of its pair forces' magnitudes
        edges = np.zeros(n)  # per particle, the magnitudes of pairs float32 may count either way
        rc2 = float(np.float32(self.scalar(size, "rc") ** 2))
        for dz in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    other = ((cx + dx) % ncx) + ncx * (((cy + dy) % ncy) + ncy * ((cz + dz) % ncz))
                    own, partner = _cell_pairs(start, other)
                    r = []
                    for axis, length in enumerate(lengths):
                        d = axes[axis][own] - axes[axis][partner]
                        d -= length * np.rint(d / length)
                        r.append(d)
                    r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2]
                    near = np.abs(r2 - rc2) <= CUTOFF_AMBIGUITY * rc2
                    if near.any():
                        edge = r2[near]
                        edge6 = edge**-3
                        edge_force = np.abs(24.0 * edge6 * (2.0 * edge6 - 1.0)) / np.sqrt(edge)
                        edges += np.bincount(own[near], weights=edge_force, minlength=n)
                    inside = np.flatnonzero(r2 < rc2)
                    i, safe = own[inside], r2[inside]
                    inv6 = safe**-3
                    magnitude = 24.0 * inv6 * (2.0 * inv6 - 1.0) / safe
                    for axis in range(3):
                        force[:, axis] += np.bincount(i, weights=magnitude * r[axis][inside], minlength=n)
                    terms += np.bincount(i, weights=np.abs(magnitude) * np.sqrt(safe), minlength=n)
        out = np.zeros((n, 4))
        out[:, :3] = force
        allowed = np.repeat(TOLERANCE * terms + edges, 4)
        return {"force": out.reshape(-1), "force" + ALLOWED_ERROR: allowed}

    def check(
        self, size: Size, name: str, got: np.ndarray, expected: np.ndarray, inputs: dict[str, np.ndarray]
    ) -> Check:
        """Without the reference's per-particle bounds (`check_output` uses those): relative to the largest force."""
        return allclose_check(got, expected, TOLERANCE)

    def heldout_dims(self, centre: Size, rng: np.random.Generator, pick: Picker = prime_in) -> tuple[int, ...]:
        """`pick`'s numbers (primes) near the centre, at least 12 lattice points a side (three cells of the cutoff)."""
        return tuple(pick(*around(d, minimum=12), rng) for d in centre.dims)

    def work(self, size: Size) -> Work:
        n = float(np.prod(size.dims))
        return Work(bytes=36.0 * n, flops=FLOPS_PER_INTERACTION * INTERACTIONS_PER_PARTICLE * n)
