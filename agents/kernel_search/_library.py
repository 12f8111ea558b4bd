"""Per-task kernel variants: structural rewrites (vectorisation, work per item, tiling) written once, by width.

Rewriting arbitrary C into a vectorised or tiled kernel is beyond a pattern matcher, so each suite
task that benefits gets generators of whole kernels, each parameterised by the transformation's
knobs (vector width, tile use). Every variant keeps the task's kernel name, signature and host
contract (the same grid for the same tunables) and handles every size the contract allows (tails,
rectangles, primes); the harness's correctness and held-out gates judge each one like any other
candidate, so a wrong variant simply scores 0.

A variant may restrict tunables (`requires`): the proposer only offers it with allowed values,
and tunable moves on a variant stay inside them. It names the backends it is written for: the
CUDA prelude has float2/float4 but no OpenCL vector literals, float8/16 or unaligned vloadN.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.kernels import KernelTask

MARK = "// variant: "
"""First comment line of a variant's source: its name, read back by the search's behaviour descriptor."""


@dataclass(frozen=True)
class Variant:
    """One structural rewrite of a task's kernel: a name, the transformation kinds it applies, its source."""

    name: str
    kinds: tuple[str, ...]
    body: str
    requires: dict[str, tuple[int, ...]] = field(default_factory=dict)
    backends: tuple[str, ...] = ("opencl",)
    """Where the source compiles as meant: vector literals, float8/16 and unaligned vloadN are OpenCL C only."""
    start: dict[str, int] = field(default_factory=dict)
    """Tunable values the variant is first tried with, where a variant changes what a tunable means:
    a parent's values were chosen for the parent's code, and from them the variant's own best setting
    can lie several tunable moves away, which a small budget never makes."""
    precondition: Callable[[KernelTask, dict[str, int]], str | None] | None = None
    """What the variant's code assumes of the task's host program at one setting of the tunables: None
    when it holds, else why not. Checked at every size and every setting the variant may be moved to."""

    def source(self, params: dict[str, int]) -> str:
        line = "//@params " + " ".join(f"{k}={v}" for k, v in params.items())
        return f"{line}\n{MARK}{self.name} ({', '.join(self.kinds)})\n{self.body.strip()}\n"


def variant_of(source: str) -> str:
    """The variant a source was built from ('seed' when none)."""
    for line in source.splitlines()[:3]:
        if line.startswith(MARK):
            return line[len(MARK) :].split(" ", 1)[0]
    return "seed"


_VECTOR_MACROS = """#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#if VEC > 1
#define VT CAT(float, VEC)
#define VLOAD(p) CAT(vload, VEC)(0, p)
#define VSTORE(v, p) CAT(vstore, VEC)(v, 0, p)
#endif
"""


def _settings(task: KernelTask, variant: Variant) -> list[dict[str, int]]:
    """Every setting of the task's tunables a search may give this variant (what `requires` allows)."""
    names = list(task.tunables)
    allowed = [[v for v in task.tunables[n] if v in variant.requires.get(n, (v,))] for n in names]
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*allowed)]


def unmet_precondition(task: KernelTask, variant: Variant) -> str | None:
    """Why the variant's code would be wrong for some size or setting of `task` (None: it holds everywhere)."""
    if variant.precondition is None:
        return None
    for params in _settings(task, variant):
        reason = variant.precondition(task, params)
        if reason is not None:
            return reason
    return None


def rows_cover_grid(
    task: KernelTask, params: dict[str, int], *, kernels: tuple[str, ...] = (), columns: int | None = None
) -> str | None:
    """The row sweepers' assumption: every launch's grid (or only the launches of `kernels`) has VEC
    columns per work-item along x (ceil(nx/VEC) items or more; `columns` where the task's own tunable sets
    it) and one item per row along every other axis, in whole work-groups, at every size a search or a
    gate runs. A work-group then owns get_local_size(0)*VEC columns of get_local_size(1) rows, and the
    groups together own every element; a host that launched fewer items would leave elements unwritten."""
    vec = params.get("VEC", 1) if columns is None else columns
    for size in (*task.sizes, *task.heldout):
        for launch in task.host(size, params).launches:
            if kernels and launch.kernel not in kernels:
                continue
            grid, local, dims = launch.global_size, launch.local_size, size.dims
            where = f"{launch.kernel} at {size.label} {'x'.join(map(str, dims))} with {params}"
            if len(grid) != len(dims):
                return f"{where}: a {len(grid)}-D grid over a {len(dims)}-D domain"
            if grid[0] * vec < dims[0] or any(g < d for g, d in zip(grid[1:], dims[1:], strict=True)):
                return f"{where}: the grid {tuple(grid)} does not cover the domain at {vec} columns per item"
            if local is not None and any(g % item for g, item in zip(grid, local, strict=False)):
                return f"{where}: the grid {tuple(grid)} is not whole work-groups of {tuple(local)}"
    return None


def _heat2d_rowvec() -> Variant:
    body = (
        _VECTOR_MACROS
        + """
__kernel void heat2d(const int nx, const int ny, const float r, __global const float* u, __global float* out) {
    const int x0 = get_global_id(0) * VEC;
    const int y = get_global_id(1);
    if (y >= ny || x0 >= nx) return;
    const int i0 = y * nx + x0;
#if VEC > 1
    if (y > 0 && y < ny - 1 && x0 > 0 && x0 + VEC < nx) {
        const VT c = VLOAD(u + i0);
        const VT lap = VLOAD(u + i0 - 1) + VLOAD(u + i0 + 1) + VLOAD(u + i0 - nx) + VLOAD(u + i0 + nx) - 4.0f * c;
        VSTORE(c + r * lap, out + i0);
        return;
    }
#endif
    for (int k = 0; k < VEC; ++k) {
        const int x = x0 + k;
        if (x >= nx) return;
        const int i = i0 + k;
        if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1) {
            out[i] = u[i];
        } else {
            out[i] = u[i] + r * (u[i - 1] + u[i + 1] + u[i - nx] + u[i + nx] - 4.0f * u[i]);
        }
    }
}
"""
    )
    return Variant("heat2d-rowvec", ("vectorise", "work-per-item"), body, {"VEC": (2, 4, 8, 16)})


def _wave3d_rowvec() -> Variant:
    body = (
        _VECTOR_MACROS
        + """
__kernel void wave3d(const int nx, const int ny, const int nz, const float c2,
                     __global const float* prev, __global const float* cur, __global float* next) {
    const int x0 = get_global_id(0) * VEC;
    const int y = get_global_id(1);
    const int z = get_global_id(2);
    if (y >= ny || z >= nz || x0 >= nx) return;
    const long plane = (long)nx * ny;
    const long i0 = z * plane + (long)y * nx + x0;
#if VEC > 1
    if (y > 0 && y < ny - 1 && z > 0 && z < nz - 1 && x0 > 0 && x0 + VEC < nx) {
        const VT c = VLOAD(cur + i0);
        const VT lap = VLOAD(cur + i0 - 1) + VLOAD(cur + i0 + 1) + VLOAD(cur + i0 - nx) + VLOAD(cur + i0 + nx)
                       + VLOAD(cur + i0 - plane) + VLOAD(cur + i0 + plane) - 6.0f * c;
        VSTORE(2.0f * c - VLOAD(prev + i0) + c2 * lap, next + i0);
        return;
    }
#endif
    for (int k = 0; k < VEC; ++k) {
        const int x = x0 + k;
        if (x >= nx) return;
        const long i = i0 + k;
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
    )
    return Variant("wave3d-rowvec", ("vectorise", "work-per-item"), body, {"VEC": (2, 4, 8, 16)})


def _heat2d_rowloop() -> Variant:
    """One work-item per group sweeps the group's LX*VEC columns of its row in a plain loop.

    PoCL runs a work-group as a loop over its work-items; a per-item float16 body with tail branches
    vectorises poorly there, while a plain loop over a row segment with `restrict` pointers is
    vectorised by the compiler itself (8-wide on AVX-512), and the row's reads stream in order.
    The other items of the group return at once; every column of the launched grid still belongs to
    exactly one group, so every size the contract allows is covered.
    """
    body = """
__kernel void heat2d(const int nx, const int ny, const float r, __global const float* restrict u,
                     __global float* restrict out) {
    if (get_local_id(0) != 0) return;
    const int y = get_global_id(1);
    if (y >= ny) return;
    const int span = get_local_size(0) * VEC;
    const int xs = get_group_id(0) * span;
    const int xe = min(xs + span, nx);
    __global const float* restrict c = u + y * nx;
    __global float* restrict o = out + y * nx;
    if (y == 0 || y == ny - 1) {
        for (int x = xs; x < xe; ++x) o[x] = c[x];
        return;
    }
    __global const float* restrict up = c - nx;
    __global const float* restrict down = c + nx;
    if (xs == 0) o[0] = c[0];
    const int hi = min(xe, nx - 1);
    for (int x = max(xs, 1); x < hi; ++x) o[x] = c[x] + r * (c[x - 1] + c[x + 1] + up[x] + down[x] - 4.0f * c[x]);
    if (xe == nx && nx > 1) o[nx - 1] = c[nx - 1];
}
"""
    # VEC multiplies the one sweeping item's row segment: the widest first (each group streams 16 columns
    # per would-be item); tunable moves narrow it from there.
    return Variant(
        "heat2d-rowloop",
        ("work-per-item", "vectorise"),
        body,
        {"VEC": (4, 8, 16)},
        start={"VEC": 16},
        precondition=rows_cover_grid,
    )


def _wave3d_rowloop() -> Variant:
    """One work-item per group sweeps the group's LX*VEC columns of its (y, z) row in a plain loop (see heat2d)."""
    body = """
__kernel void wave3d(const int nx, const int ny, const int nz, const float c2, __global const float* restrict prev,
                     __global const float* restrict cur, __global float* restrict next) {
    if (get_local_id(0) != 0) return;
    const int y = get_global_id(1);
    const int z = get_global_id(2);
    if (y >= ny || z >= nz) return;
    const int span = get_local_size(0) * VEC;
    const int xs = get_group_id(0) * span;
    const int xe = min(xs + span, nx);
    const long plane = (long)nx * ny;
    const long row = z * plane + (long)y * nx;
    __global float* restrict o = next + row;
    if (y == 0 || z == 0 || y == ny - 1 || z == nz - 1) {
        for (int x = xs; x < xe; ++x) o[x] = 0.0f;
        return;
    }
    __global const float* restrict c = cur + row;
    __global const float* restrict p = prev + row;
    __global const float* restrict north = c - nx;
    __global const float* restrict south = c + nx;
    __global const float* restrict below = c - plane;
    __global const float* restrict above = c + plane;
    if (xs == 0) o[0] = 0.0f;
    const int hi = min(xe, nx - 1);
    for (int x = max(xs, 1); x < hi; ++x) {
        const float lap = c[x - 1] + c[x + 1] + north[x] + south[x] + below[x] + above[x] - 6.0f * c[x];
        o[x] = 2.0f * c[x] - p[x] + c2 * lap;
    }
    if (xe == nx) o[nx - 1] = 0.0f;
}
"""
    return Variant(
        "wave3d-rowloop",
        ("work-per-item", "vectorise"),
        body,
        {"VEC": (4, 8, 16)},
        start={"VEC": 16},
        precondition=rows_cover_grid,
    )


def _heat2d_rowblock() -> Variant:
    """One work-item per group sweeps the group's block: LX*VEC columns of each of its LY rows, row by row.

    The row loop of `heat2d-rowloop` (a plain loop the compiler vectorises, rows streamed in order), with
    several rows per sweeping item: the rows above and below a row are the previous and next rows of the
    same sweep, so they are still in the core's L1 cache when read again (a window of three rows of at
    most LX*VEC floats each), and each item's fixed cost (index set-up, boundary branches, the returning
    items of its group) is spread over LY rows. Measured beside the row loop on the shared 2-core machine,
    the two tie at the largest size (both run as fast as the triad probe allows at the same moment), and
    the block's median fitness was ahead by 7-27 % in interleaved rounds: a small gain, inside the noise
    of one search.
    """
    body = """
__kernel void heat2d(const int nx, const int ny, const float r, __global const float* restrict u,
                     __global float* restrict out) {
    if (get_local_id(0) != 0 || get_local_id(1) != 0) return;
    const int span = get_local_size(0) * VEC;
    const int xs = get_group_id(0) * span;
    const int xe = min(xs + span, nx);
    const int ys = get_group_id(1) * get_local_size(1);
    const int ye = min(ys + (int)get_local_size(1), ny);
    const int lo = max(xs, 1), hi = min(xe, nx - 1);
    for (int y = ys; y < ye; ++y) {
        __global const float* restrict c = u + (long)y * nx;
        __global float* restrict o = out + (long)y * nx;
        if (y == 0 || y == ny - 1) {
            for (int x = xs; x < xe; ++x) o[x] = c[x];
            continue;
        }
        __global const float* restrict up = c - nx;
        __global const float* restrict down = c + nx;
        if (xs == 0) o[0] = c[0];
        for (int x = lo; x < hi; ++x) o[x] = c[x] + r * (c[x - 1] + c[x + 1] + up[x] + down[x] - 4.0f * c[x]);
        if (xe == nx && nx > 1) o[nx - 1] = c[nx - 1];
    }
}
"""
    return Variant(
        "heat2d-rowblock",
        ("work-per-item", "vectorise"),
        body,
        {"VEC": (4, 8, 16)},
        start={"VEC": 16, "LX": 64, "LY": 8},
        precondition=rows_cover_grid,
    )


def _wave3d_rowblock() -> Variant:
    """One work-item per group sweeps LX*VEC columns of the group's LY rows of its z plane (see heat2d)."""
    body = """
__kernel void wave3d(const int nx, const int ny, const int nz, const float c2, __global const float* restrict prev,
                     __global const float* restrict cur, __global float* restrict next) {
    if (get_local_id(0) != 0 || get_local_id(1) != 0) return;
    const int z = get_global_id(2);
    if (z >= nz) return;
    const int span = get_local_size(0) * VEC;
    const int xs = get_group_id(0) * span;
    const int xe = min(xs + span, nx);
    const int ys = get_group_id(1) * get_local_size(1);
    const int ye = min(ys + (int)get_local_size(1), ny);
    const int lo = max(xs, 1), hi = min(xe, nx - 1);
    const long plane = (long)nx * ny;
    for (int y = ys; y < ye; ++y) {
        const long row = z * plane + (long)y * nx;
        __global float* restrict o = next + row;
        if (y == 0 || z == 0 || y == ny - 1 || z == nz - 1) {
            for (int x = xs; x < xe; ++x) o[x] = 0.0f;
            continue;
        }
        __global const float* restrict c = cur + row;
        __global const float* restrict p = prev + row;
        __global const float* restrict north = c - nx;
        __global const float* restrict south = c + nx;
        __global const float* restrict below = c - plane;
        __global const float* restrict above = c + plane;
        if (xs == 0) o[0] = 0.0f;
        for (int x = lo; x < hi; ++x) {
            const float lap = c[x - 1] + c[x + 1] + north[x] + south[x] + below[x] + above[x] - 6.0f * c[x];
            o[x] = 2.0f * c[x] - p[x] + c2 * lap;
        }
        if (xe == nx) o[nx - 1] = 0.0f;
    }
}
"""
    return Variant(
        "wave3d-rowblock",
        ("work-per-item", "vectorise"),
        body,
        {"VEC": (4, 8, 16)},
        start={"VEC": 16, "LX": 16, "LY": 8},
        precondition=rows_cover_grid,
    )


def _nbody_lanes(width: int, tiled: bool) -> Variant:
    """The j-loop vectorised `width` bodies at a time (structure-of-arrays lanes); optionally tiled in __local."""
    lanes = range(width)
    vec = f"float{width}"
    gather = "\n".join(f"        const float4 p{k} = SRC[J + {k}];" for k in lanes)

    def component(c: str) -> str:
        return f"({vec})(" + ", ".join(f"p{k}.{c}" for k in lanes) + ")"

    reduce = " + ".join(f"v.s{k:x}" for k in lanes)
    step = f"""{gather}
        const {vec} dx = {component("x")} - pi.x;
        const {vec} dy = {component("y")} - pi.y;
        const {vec} dz = {component("z")} - pi.z;
        const {vec} inv = rsqrt(dx * dx + dy * dy + dz * dz + eps2);
        const {vec} s = {component("w")} * inv * inv * inv;
        vx += dx * s; vy += dy * s; vz += dz * s;"""
    scalar = """        const float4 pj = SRC[J];
        const float dx = pj.x - pi.x, dy = pj.y - pi.y, dz = pj.z - pi.z;
        const float inv = rsqrt(dx * dx + dy * dy + dz * dz + eps2);
        const float s = pj.w * inv * inv * inv;
        ax += dx * s; ay += dy * s; az += dz * s;"""

    def loop(src: str, start: str, stop: str, indent: str) -> str:
        wide = step.replace("SRC", src).replace("J + ", "j + ").replace("[J]", "[j]")
        one = scalar.replace("SRC", src).replace("[J]", "[j]")
        text = (
            f"    int j = {start};\n    for (; j + {width} <= {stop}; j += {width}) {{\n{wide}\n    }}\n"
            f"    for (; j < {stop}; ++j) {{\n{one}\n    }}"
        )
        return "\n".join(indent + line for line in text.splitlines())

    header = f"""__kernel void nbody(const int n, const float eps2, __global const float4* pos, __global float4* acc) {{
    const int i = get_global_id(0);
    const float4 pi = i < n ? pos[i] : (float4)(0.0f);
    {vec} vx = ({vec})(0.0f), vy = ({vec})(0.0f), vz = ({vec})(0.0f);
    float ax = 0.0f, ay = 0.0f, az = 0.0f;
"""
    if tiled:
        core = f"""#if LOCAL > 0
    __local float4 tile[LOCAL];
    const int lid = get_local_id(0);
    for (int base = 0; base < n; base += LOCAL) {{
        tile[lid] = base + lid < n ? pos[base + lid] : (float4)(0.0f);
        barrier(CLK_LOCAL_MEM_FENCE);
        const int count = min(LOCAL, n - base);
        {{
{loop("tile", "0", "count", "        ")}
        }}
        barrier(CLK_LOCAL_MEM_FENCE);
    }}
#else
    {{
{loop("pos", "0", "n", "    ")}
    }}
#endif
"""
    else:
        core = f"    {{\n{loop('pos', '0', 'n', '    ')}\n    }}\n"
    tail = f"""    {{
        {vec} v = vx; ax += {reduce};
        v = vy; ay += {reduce};
        v = vz; az += {reduce};
    }}
    if (i < n) acc[i] = (float4)(ax, ay, az, 0.0f);
}}
"""
    kinds = ("vectorise", "unroll", *(("local-tiling",) if tiled else ()))
    name = f"nbody-lanes{width}" + ("-tiled" if tiled else "")
    return Variant(name, kinds, header + core + tail, {"TILE": (0,)})  # TILE is the seed's switch, unused here


def _lane_runs(width: int, count: str) -> str:
    """The opening of a kernel whose work-items each take `width` consecutive elements into vector lanes.

    The host launches one work-item per element; the group's range of elements [first, end) is split into
    runs of `width`, one per work-item, and the group's other items return. Defines `start` and `end`.
    """
    return f"""    const int size = get_local_size(0);
    const int first = get_group_id(0) * size;
    const int start = first + get_local_id(0) * {width};
    const int end = min(first + size, {count});
    if (start >= end) return;"""


def _nbody_ilanes(width: int) -> Variant:
    """Each work-item holds `width` bodies i in vector lanes and streams every body j as broadcast scalars.

    The group's range of bodies is split into runs of `width`, one per work-item (the rest of the
    group returns), so no lane shuffling happens in the inner loop: per j, about twenty vector
    operations serve `width` pairs. PoCL's rsqrt and native_rsqrt both compile to a square root
    and a division, so 1/sqrt is an estimate refined by Newton steps: on x86 with AVX the
    processor's own estimate (`vrsqrtps`, 12 bits, eight lanes per instruction) and one step,
    elsewhere a bit-level estimate and two (relative error 2e-7 and 5e-6, both far inside the task's
    tolerance; the hardware path saves four of the twenty-one vector operations per j, and measured
    1.1-1.6x the bit-level kernel at n = 4096 on an AVX2 host). `fma` is written out since the
    compiler does not contract `a * b + c` by itself.
    """
    vec = f"float{width}"
    halves = (
        "__builtin_ia32_rsqrtps256(x)"
        if width == 8
        else (f"({vec})({', '.join(f'__builtin_ia32_rsqrtps256(x.{h})' for h in ('lo', 'hi'))})")
    )
    body = f"""
inline {vec} rsqrt_estimate(const {vec} x) {{
    const {vec} nhalf = -0.5f * x, three_halves = ({vec})(1.5f);
#if defined(__AVX__)
    const {vec} y = {halves};
    return y * fma(nhalf, y * y, three_halves);
#else
    {vec} y = as_{vec}(0x5f375a86 - (as_int{width}(x) >> 1));
    y = y * fma(nhalf, y * y, three_halves);
    return y * fma(nhalf, y * y, three_halves);
#endif
}}

__kernel void nbody(const int n, const float eps2, __global const float4* restrict pos,
                    __global float4* restrict acc) {{
{_lane_runs(width, "n")}
    float xi[{width}], yi[{width}], zi[{width}];
    for (int k = 0; k < {width}; ++k) {{
        const float4 p = pos[min(start + k, n - 1)];
        xi[k] = p.x; yi[k] = p.y; zi[k] = p.z;
    }}
    const {vec} px = vload{width}(0, xi), py = vload{width}(0, yi), pz = vload{width}(0, zi);
    const {vec} soft = ({vec})(eps2);
    {vec} ax = ({vec})(0.0f), ay = ({vec})(0.0f), az = ({vec})(0.0f);
    for (int j = 0; j < n; ++j) {{
        const float4 pj = pos[j];
        const {vec} dx = pj.x - px, dy = pj.y - py, dz = pj.z - pz;
        const {vec} inv = rsqrt_estimate(fma(dx, dx, fma(dy, dy, fma(dz, dz, soft))));
        const {vec} s = pj.w * inv * inv * inv;
        ax = fma(dx, s, ax); ay = fma(dy, s, ay); az = fma(dz, s, az);
    }}
    float rx[{width}], ry[{width}], rz[{width}];
    vstore{width}(ax, 0, rx); vstore{width}(ay, 0, ry); vstore{width}(az, 0, rz);
    const int count = min({width}, end - start);
    for (int k = 0; k < count; ++k) acc[start + k] = (float4)(rx[k], ry[k], rz[k], 0.0f);
}}
"""
    kinds = ("vectorise", "work-per-item", "strength-reduction")
    return Variant(f"nbody-ilanes{width}", kinds, body, {"TILE": (0,)})  # TILE is the seed's switch, unused here


_LBM = """
__kernel void lbm(const int nx, const int ny, const float omega, __global const float* fin, __global float* fout) {
    const int x = get_global_id(0), y = get_global_id(1);
    if (x >= nx || y >= ny) return;
    const int n = nx * ny;
    const int xm = x == 0 ? nx - 1 : x - 1, xp = x == nx - 1 ? 0 : x + 1;
    const int rc = y * nx, rm = (y == 0 ? ny - 1 : y - 1) * nx, rp = (y == ny - 1 ? 0 : y + 1) * nx;
    const float f0 = fin[rc + x];
    const float f1 = fin[n + rc + xm];
    const float f2 = fin[2 * n + rm + x];
    const float f3 = fin[3 * n + rc + xp];
    const float f4 = fin[4 * n + rp + x];
    const float f5 = fin[5 * n + rm + xm];
    const float f6 = fin[6 * n + rm + xp];
    const float f7 = fin[7 * n + rp + xp];
    const float f8 = fin[8 * n + rp + xm];
    const float rho = f0 + f1 + f2 + f3 + f4 + f5 + f6 + f7 + f8;
    const float inv = 1.0f / rho;
    const float ux = (f1 - f3 + f5 - f6 - f7 + f8) * inv;
    const float uy = (f2 - f4 + f5 + f6 - f7 - f8) * inv;
    const float usq = 1.5f * (ux * ux + uy * uy);
    const int i = rc + x;
#define LBM_OUT(q, fq, w, cu) { const float c_ = 3.0f * (cu); \\
        fout[(q) * n + i] = fq - omega * (fq - (w) * rho * (1.0f + c_ + 0.5f * c_ * c_ - usq)); }
    LBM_OUT(0, f0, 4.0f / 9, 0.0f)
    LBM_OUT(1, f1, 1.0f / 9, ux)
    LBM_OUT(2, f2, 1.0f / 9, uy)
    LBM_OUT(3, f3, 1.0f / 9, -ux)
    LBM_OUT(4, f4, 1.0f / 9, -uy)
    LBM_OUT(5, f5, 1.0f / 36, ux + uy)
    LBM_OUT(6, f6, 1.0f / 36, uy - ux)
    LBM_OUT(7, f7, 1.0f / 36, -ux - uy)
    LBM_OUT(8, f8, 1.0f / 36, ux - uy)
#undef LBM_OUT
}
"""


def _jacobi_rows_cover_grid(task: KernelTask, params: dict[str, int]) -> str | None:
    """`rows_cover_grid` for the Jacobi sweep alone (the reduction's grid is its own, fixed by the contract)."""
    return rows_cover_grid(task, params, kernels=("jacobi",))


def _gradshaf_rowloop() -> Variant:
    """The maximum from one contiguous chunk per work-item, and the Jacobi sweep as row loops (see heat2d).

    The seed's reduction strides every work-item across the whole field (item i reads i, i + 1024, ...), so
    no loop is left for the compiler to vectorise and every cache line is fetched by 16 different items;
    here each item reads its own contiguous chunk (the contract fixes the launch at GROUPS x LOCAL_R items,
    so the chunk follows from the global size, and any n is covered). The maximum is taken with a
    comparison, exactly as `fmax` for the finite inputs the contract allows, but a loop the compiler turns
    into vector maxima. The sweep keeps every expression of the seed (the same rounding), in one plain loop
    per row segment over `restrict` pointers.
    """
    body = """
__kernel void psi_max(const int n, __global const float* restrict psi, __global float* restrict partial) {
    __local float scratch[LOCAL_R];
    const int lid = get_local_id(0);
    const int items = get_global_size(0);
    const int chunk = (n + items - 1) / items;
    const int start = get_global_id(0) * chunk;
    const int end = min(start + chunk, n);
    float m = -INFINITY;
    for (int i = start; i < end; ++i) m = psi[i] > m ? psi[i] : m;
    scratch[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LOCAL_R / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partial[get_group_id(0)] = scratch[0];
}

__kernel void jacobi(const int nr, const int nz, const float r0, const float h, const int groups,
                     __global const float* restrict psi, __global const float* restrict partial,
                     __global float* restrict out) {
    if (get_local_id(0) != 0) return;
    const int j = get_global_id(1);
    if (j >= nz) return;
    const int span = get_local_size(0);
    const int xs = get_group_id(0) * span;
    if (xs >= nr) return;
    const int xe = min(xs + span, nr);
    __global const float* restrict c = psi + j * nr;
    __global float* restrict o = out + j * nr;
    if (j == 0 || j == nz - 1) {
        for (int i = xs; i < xe; ++i) o[i] = c[i];
        return;
    }
    float pmax = partial[0];
    for (int g = 1; g < groups; ++g) pmax = fmax(pmax, partial[g]);
    __global const float* restrict up = c + nr;
    __global const float* restrict down = c - nr;
    if (xs == 0) o[0] = c[0];
    const int hi = min(xe, nr - 1);
    for (int i = max(xs, 1); i < hi; ++i) {
        const float r = r0 + i * h;
        const float a = h / (2.0f * r);
        const float q = c[i] / pmax;
        const float source = r * r * (1.0f - q * q);
        o[i] = ((1.0f - a) * c[i + 1] + (1.0f + a) * c[i - 1] + up[i] + down[i] + h * h * source) * 0.25f;
    }
    if (xe == nr && nr > 1) o[nr - 1] = c[nr - 1];
}
"""
    # LX is the sweeping item's row segment: the widest first, tunable moves narrow it from there.
    return Variant(
        "gradshaf-rowloop",
        ("work-per-item", "vectorise", "reorder"),
        body,
        start={"LX": 128},
        precondition=_jacobi_rows_cover_grid,
    )


def _ising_rows_cover_grid(task: KernelTask, params: dict[str, int]) -> str | None:
    """`rows_cover_grid` with HALF's two columns per work-item."""
    return rows_cover_grid(task, params, columns=2 if params.get("HALF") else 1)


def _ising_rowloop() -> Variant:
    """One work-item per group walks the sites of the launch's colour in the group's columns of its row.

    The seed runs one work-item per site (or per pair of sites with HALF), and PoCL runs each work-group
    as a loop over its items around a body with a return for the other colour and four modulo operations;
    here the loop is the kernel's own, stepping two columns at a time, with the periodic wrap only at a
    row's ends. Every site of the colour is updated exactly as the contract says (the same hash of
    y*nx + x, the same thresholds), so the result stays bit-exact; the other colour is only read.
    """
    body = """
uint mix32(uint x) {
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}

__kernel void ising(const int nx, const int ny, const int color, const uint t4, const uint t8,
                    __global const uint* restrict keys, __global char* restrict spins) {
    if (get_local_id(0) != 0) return;
    const int y = get_global_id(1);
    if (y >= ny) return;
#if HALF
    const int span = 2 * get_local_size(0);
#else
    const int span = get_local_size(0);
#endif
    const int xs = get_group_id(0) * span;
    if (xs >= nx) return;
    const int xe = min(xs + span, nx);
    const uint key = keys[color];
    const int row = y * nx;
    const int above = ((y + 1) % ny) * nx;
    const int below = ((y - 1 + ny) % ny) * nx;
    for (int x = xs + ((xs + y + color) & 1); x < xe; x += 2) {
        const int s = spins[row + x];
        const int left = spins[row + (x == 0 ? nx - 1 : x - 1)];
        const int right = spins[row + (x == nx - 1 ? 0 : x + 1)];
        const int nb = left + right + spins[above + x] + spins[below + x];
        const int de = 2 * s * nb;
        const uint r = mix32(key ^ mix32((uint)(row + x)));
        if (de <= 0 || r < (de == 4 ? t4 : t8)) spins[row + x] = (char)(-s);
    }
}
"""
    return Variant(
        "ising-rowloop",
        ("work-per-item", "reorder"),
        body,
        # Without HALF the grid covers odd sides as well (the contract's sizes are even, but a user's need
        # not be); LX sets the row segment, at its widest first.
        start={"LX": 128, "HALF": 0},
        precondition=_ising_rows_cover_grid,
    )


def _hmc_lanes(width: int) -> Variant:
    """Each work-item runs `width` chains in vector lanes: draws, leapfrog and accept decisions as vectors.

    The seed runs one chain per work-item over private arrays indexed by a runtime `d`, which PoCL cannot
    vectorise across work-items, so every momentum draw (two hashes, a logarithm, a cosine and a square
    root per coordinate) and every leapfrog update ran scalar. As in `nbody-ilanes`, the group's range of
    chains is split into runs of `width`, one per work-item (the rest of the group returns); lanes past the
    last chain repeat its work and are never stored. Every expression of the seed is kept, lane for lane
    (the same hash counters, the same order of operations), so each chain follows the seed's trajectory;
    an accept is a lane mask that selects between the proposal and the saved position.

    The work-group size is the host's LOCAL, never the runtime's choice: PoCL keeps each work-item's
    private arrays for the whole group on its thread's stack, and at the up to 4096 items it picks
    for LOCAL = 0 the lanes' arrays (3 x 32 x `width` floats per item) overflow it (8192 chains crashed).
    """
    vec, ivec, uvec = f"float{width}", f"int{width}", f"uint{width}"
    lanes = ", ".join(str(k) for k in range(width))
    body = f"""
#define MAXD 32
{uvec} mix32v({uvec} x) {{
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}}
{vec} uniform01v(const uint key, const {uvec} counter) {{
    return (convert_{vec}(mix32v(key ^ mix32v(counter)) >> 8) + 0.5f) * (1.0f / 16777216.0f);
}}

__kernel void hmc(const int chains, const int d, const int iters, const int steps, const float eps,
                  __global const uint* restrict keys, __global const float* restrict inv_var,
                  __global float* restrict x, __global int* restrict accepted) {{
{_lane_runs(width, "chains")}
    const {ivec} chain = min(start + ({ivec})({lanes}), chains - 1);
    const uint key = keys[0];
    {vec} q[MAXD], p[MAXD], q0[MAXD];
    float iv[MAXD], column[{width}];
    for (int k = 0; k < d; ++k) {{
        iv[k] = inv_var[k];
        for (int l = 0; l < {width}; ++l) column[l] = x[min(start + l, chains - 1) * d + k];
        q[k] = vload{width}(0, column);
    }}
    {ivec} count = ({ivec})(0);
    for (int it = 0; it < iters; ++it) {{
        const {uvec} base = (convert_{uvec}(chain * iters + it) * (uint)(d + 1)) * 2u;
        {vec} h0 = ({vec})(0.0f);
        for (int k = 0; k < d; ++k) {{
            const {vec} u1 = uniform01v(key, base + 2u * k), u2 = uniform01v(key, base + 2u * k + 1u);
            p[k] = sqrt(-2.0f * log(u1)) * cos(2.0f * M_PI_F * u2);
            q0[k] = q[k];
            h0 += 0.5f * (iv[k] * q[k] * q[k] + p[k] * p[k]);
        }}
        for (int k = 0; k < d; ++k) p[k] -= 0.5f * eps * iv[k] * q[k];
        for (int s = 0; s < steps; ++s) {{
            for (int k = 0; k < d; ++k) q[k] += eps * p[k];
            const float scale = s < steps - 1 ? eps : 0.5f * eps;
            for (int k = 0; k < d; ++k) p[k] -= scale * iv[k] * q[k];
        }}
        {vec} h1 = ({vec})(0.0f);
        for (int k = 0; k < d; ++k) h1 += 0.5f * (iv[k] * q[k] * q[k] + p[k] * p[k]);
        const {vec} u = uniform01v(key, base + 2u * d);
        const {ivec} accept = log(u) < h0 - h1;
        count -= accept;
        for (int k = 0; k < d; ++k) q[k] = select(q0[k], q[k], accept);
    }}
    const int stored = min({width}, end - start);
    for (int k = 0; k < d; ++k) {{
        vstore{width}(q[k], 0, column);
        for (int l = 0; l < stored; ++l) x[(start + l) * d + k] = column[l];
    }}
    int counts[{width}];
    vstore{width}(count, 0, counts);
    for (int l = 0; l < stored; ++l) accepted[start + l] = counts[l];
}}
"""
    sized: dict[str, tuple[int, ...]] = {"LOCAL": (16, 32, 64, 128, 256)}
    return Variant(f"hmc-lanes{width}", ("vectorise", "work-per-item"), body, sized, start={"LOCAL": 64})


def _fft3d_pow2() -> Variant:
    """The seed's stage with its index arithmetic on exponents and its twiddle from the exact fraction k/p.

    The contract's dimensions are powers of two, so every division and remainder of the seed (four per
    butterfly, each tens of cycles where a shift or a mask is one) becomes a shift or a mask of log2 of
    the sizes. The twiddle exp(-i pi k/p) is `cospi`/`sinpi` of k/p, exact in float since p is a power of
    two, where the seed rounds pi*k/p first and calls the full-range cos and sin: more accurate, and PoCL's
    reduction for a multiple of pi is cheaper. Butterflies, their order and the output layout are the seed's.
    """
    body = """
__kernel void fft_stage(const int nx, const int ny, const int nz, const int axis, const int p,
                        __global const float2* restrict in, __global float2* restrict out) {
    const int t = get_global_id(0);
    const int lx = 31 - clz(nx), ly = 31 - clz(ny), lz = 31 - clz(nz);
    if (t >= 1 << (lx + ly + lz - 1)) return;
    const int lm = (axis == 0 ? lx : (axis == 1 ? ly : lz)) - 1;
    const int ls = axis == 0 ? 0 : (axis == 1 ? lx : lx + ly);
    const int j = t & ((1 << lm) - 1);
    const int line = t >> lm;
    int base;
    if (axis == 0) base = line << lx;
    else if (axis == 1) base = ((line >> lx) << (lx + ly)) + (line & (nx - 1));
    else base = line;
    const int k = j & (p - 1);
    const float2 a = in[base + (j << ls)];
    const float2 b = in[base + ((j + (1 << lm)) << ls)];
    const float turn = -(float)k / (float)p;
    const float c = cospi(turn), s = sinpi(turn);
    const float2 wb = (float2)(b.x * c - b.y * s, b.x * s + b.y * c);
    const int o = 2 * j - k;
    out[base + (o << ls)] = a + wb;
    out[base + ((o + p) << ls)] = a - wb;
}
"""
    return Variant("fft3d-pow2", ("strength-reduction", "restrict"), body)


def _lj_images() -> Variant:
    """Minimum images from the neighbour cell's wrap, once per cell, instead of three divisions per pair.

    The seed takes every pair's minimum image as r - L*rint(r/L) per axis: three divisions and three
    roundings per pair, most of the pair's cost. The contract's cells are at least the cutoff wide and
    at least three a side, so a partner within the cutoff lies in one of the 27 neighbouring cells, and
    its nearest image is the one that cell's offset names: shifted by a box length exactly where the
    offset wraps around the box. Each neighbour cell's shift is added to i's position once, so a pair
    costs a subtraction per axis. Pairs beyond the cutoff may get a farther image than the minimum, but
    they are left out either way (any other image is a box length, three cutoffs, away).
    """
    body = """
__kernel void lj(const int n, const int ncx, const int ncy, const int ncz,
                 const float lx, const float ly, const float lz, const float rc2,
                 __global const float4* restrict pos, __global const int* restrict cell,
                 __global const int* restrict start, __global float4* restrict force) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float4 pi = pos[i];
    const int c = cell[i];
    const int cx = c % ncx, cy = (c / ncx) % ncy, cz = c / (ncx * ncy);
    float fx = 0.0f, fy = 0.0f, fz = 0.0f;
    for (int dz = -1; dz <= 1; ++dz) {
        int z = cz + dz;
        float qz = pi.z;
        if (z < 0) { z += ncz; qz += lz; } else if (z >= ncz) { z -= ncz; qz -= lz; }
        for (int dy = -1; dy <= 1; ++dy) {
            int y = cy + dy;
            float qy = pi.y;
            if (y < 0) { y += ncy; qy += ly; } else if (y >= ncy) { y -= ncy; qy -= ly; }
            for (int dx = -1; dx <= 1; ++dx) {
                int x = cx + dx;
                float qx = pi.x;
                if (x < 0) { x += ncx; qx += lx; } else if (x >= ncx) { x -= ncx; qx -= lx; }
                const int nc = x + ncx * (y + ncy * z);
                const int last = start[nc + 1];
                for (int j = start[nc]; j < last; ++j) {
                    if (j == i) continue;
                    const float4 pj = pos[j];
                    const float rx = qx - pj.x, ry = qy - pj.y, rz = qz - pj.z;
                    const float r2 = rx * rx + ry * ry + rz * rz;
                    if (r2 < rc2) {
                        const float inv2 = 1.0f / r2;
                        const float inv6 = inv2 * inv2 * inv2;
                        const float f = 24.0f * inv2 * inv6 * (2.0f * inv6 - 1.0f);
                        fx += f * rx; fy += f * ry; fz += f * rz;
                    }
                }
            }
        }
    }
    force[i] = (float4)(fx, fy, fz, 0.0f);
}
"""
    return Variant("lj-images", ("strength-reduction", "restrict"), body)


def _lbm_fused() -> Variant:
    # One cell per work-item: VEC above 1 would shrink the grid under it and leave cells unwritten.
    return Variant(
        "lbm-fused",
        ("fused-update", "unroll", "strength-reduction"),
        _LBM,
        {"VEC": (1,)},
        backends=("opencl", "cuda"),
    )


_LBM_COLLIDE = """
// One collision of VEC columns (T = VT, vector loads) or of one column (T = float): the nine pulled
// populations, the moments, and BGK written straight out, the fused variant's arithmetic.
#define LBM_COLLIDE(T, LD, ST, x, xm, xp) { \\
    const T f0 = LD(fin + rc + (x)); \\
    const T f1 = LD(fin + n + rc + (xm)); \\
    const T f2 = LD(fin + 2 * n + rm + (x)); \\
    const T f3 = LD(fin + 3 * n + rc + (xp)); \\
    const T f4 = LD(fin + 4 * n + rp + (x)); \\
    const T f5 = LD(fin + 5 * n + rm + (xm)); \\
    const T f6 = LD(fin + 6 * n + rm + (xp)); \\
    const T f7 = LD(fin + 7 * n + rp + (xp)); \\
    const T f8 = LD(fin + 8 * n + rp + (xm)); \\
    const T rho = f0 + f1 + f2 + f3 + f4 + f5 + f6 + f7 + f8; \\
    const T inv = 1.0f / rho; \\
    const T ux = (f1 - f3 + f5 - f6 - f7 + f8) * inv; \\
    const T uy = (f2 - f4 + f5 + f6 - f7 - f8) * inv; \\
    const T usq = 1.5f * (ux * ux + uy * uy); \\
    __global float* o = fout + rc + (x); \\
    ST(f0 - omega * (f0 - (4.0f / 9) * rho * (1.0f - usq)), o); \\
    LBM_OUT(T, ST, 1, f1, 1.0f / 9, ux) \\
    LBM_OUT(T, ST, 2, f2, 1.0f / 9, uy) \\
    LBM_OUT(T, ST, 3, f3, 1.0f / 9, -ux) \\
    LBM_OUT(T, ST, 4, f4, 1.0f / 9, -uy) \\
    LBM_OUT(T, ST, 5, f5, 1.0f / 36, ux + uy) \\
    LBM_OUT(T, ST, 6, f6, 1.0f / 36, uy - ux) \\
    LBM_OUT(T, ST, 7, f7, 1.0f / 36, -ux - uy) \\
    LBM_OUT(T, ST, 8, f8, 1.0f / 36, ux - uy) }
#define LBM_OUT(T, ST, q, fq, w, cu) { const T c_ = 3.0f * (cu); \\
    ST(fq - omega * (fq - (w) * rho * (1.0f + c_ + 0.5f * c_ * c_ - usq)), o + (q) * n); }
#define ONE_LOAD(p) (*(p))
#define ONE_STORE(v, p) (*(p) = (v))
"""


def _lbm_rowvec() -> Variant:
    """The fused collision on VEC neighbouring cells of a row at once, with vector loads and stores.

    A D2Q9 step is nine streams in and nine out, each contiguous along a row, so VEC cells' populations of
    one direction are one unaligned vector load at the pulled offset. Measured with PoCL on a 2-core EPYC,
    the one-cell kernels (the seed, the fused variant) ran at 2-5 GB/s with their arithmetic left scalar,
    and this form at 13-18 GB/s. Cells at either end of a row wrap around and are done one at a time.
    """
    body = (
        _VECTOR_MACROS
        + _LBM_COLLIDE
        + """
__kernel void lbm(const int nx, const int ny, const float omega, __global const float* restrict fin,
                  __global float* restrict fout) {
    const int x0 = get_global_id(0) * VEC;
    const int y = get_global_id(1);
    if (y >= ny || x0 >= nx) return;
    const int n = nx * ny;
    const int rc = y * nx, rm = (y == 0 ? ny - 1 : y - 1) * nx, rp = (y == ny - 1 ? 0 : y + 1) * nx;
#if VEC > 1
    if (x0 > 0 && x0 + VEC < nx) {
        LBM_COLLIDE(VT, VLOAD, VSTORE, x0, x0 - 1, x0 + 1)
        return;
    }
#endif
    const int x1 = min(nx, x0 + VEC);
    for (int x = x0; x < x1; ++x) {
        const int xm = x == 0 ? nx - 1 : x - 1, xp = x == nx - 1 ? 0 : x + 1;
        LBM_COLLIDE(float, ONE_LOAD, ONE_STORE, x, xm, xp)
    }
}
"""
    )
    return Variant(
        "lbm-rowvec",
        ("vectorise", "work-per-item", "fused-update", "restrict"),
        body,
        {"VEC": (2, 4, 8, 16)},
        start={"VEC": 8, "LX": 0},
        precondition=rows_cover_grid,
    )


LIBRARY: dict[str, Callable[[], list[Variant]]] = {
    "heat2d": lambda: [_heat2d_rowblock(), _heat2d_rowloop(), _heat2d_rowvec()],
    "wave3d": lambda: [_wave3d_rowblock(), _wave3d_rowloop(), _wave3d_rowvec()],
    "nbody": lambda: (
        [_nbody_ilanes(16), _nbody_ilanes(8)] + [_nbody_lanes(w, t) for w in (8, 16) for t in (False, True)]
    ),
    "lbm": lambda: [_lbm_rowvec(), _lbm_fused()],
    "gradshaf": lambda: [_gradshaf_rowloop()],
    "ising": lambda: [_ising_rowloop()],
    "hmc": lambda: [_hmc_lanes(16), _hmc_lanes(8)],
    "fft3d": lambda: [_fft3d_pow2()],
    "lj": lambda: [_lj_images()],
}


def variants_for(task_name: str) -> list[Variant]:
    """The variants written for a task (none for tasks without a library entry)."""
    make = LIBRARY.get(task_name)
    return make() if make else []
