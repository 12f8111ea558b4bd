"""hmc: Hamiltonian Monte Carlo, one chain per work-item, on a d-dimensional Gaussian; statistical check.

Chains start over-dispersed (3 standard deviations) and run `iters` HMC transitions of `steps`
leapfrog steps; a correct sampler ends with standardised coordinates of mean 0 and variance 1 and
an acceptance rate close to the reference sampler's. Rounding can flip an accept decision near
its threshold, after which a chain's trajectory differs, so the check is two-fold: most chains
(FOLLOW) must end where the float64 reference chain ends with the same number of accepted
transitions (so the proposals themselves were computed, not drawn from the target directly),
and the moments must match the target within six standard errors, per dimension and pooled,
with the acceptance rate close to the reference's.
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
    f32,
    grid,
    i32,
)
from tools.kernels.suite._ising import mix32

ITERS = 10
STEPS = 12
EPS = 0.1
"""Defaults of the transitions, leapfrog steps and step size; each run draws its own (`scalar_ranges`)."""
MAXD = 32
FOLLOW = 0.99
"""Share of chains that must end where the float64 reference chain ends (same proposals, same decisions).

A flipped decision needs the float32 energy difference within its rounding error of log(u): about
one transition in 1e5 (the seed follows on 8191 of 8192 chains or all). The rest is what a kernel
could leave out: at 0.9 it could skip a tenth of the chains and write draws from the target there.
"""
FOLLOW_TOLERANCE = 1e-3

SEED = """//@params LOCAL=64
// One chain per work-item. x[c*d + k]; target density exp(-0.5 * sum_k inv_var[k] x_k^2).
#define MAXD 32
uint mix32(uint x) {
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}
float uniform01(uint key, uint counter) {
    return ((float)(mix32(key ^ mix32(counter)) >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

__kernel void hmc(const int chains, const int d, const int iters, const int steps, const float eps,
                  __global const uint* keys, __global const float* inv_var, __global float* x, __global int* accepted) {
    int c = get_global_id(0);
    if (c >= chains) return;
    float q[MAXD], p[MAXD], q0[MAXD], iv[MAXD];
    for (int k = 0; k < d; ++k) { q[k] = x[c * d + k]; iv[k] = inv_var[k]; }
    int count = 0;
    for (int it = 0; it < iters; ++it) {
        uint base = ((uint)(c * iters + it) * (uint)(d + 1)) * 2u;
        float h0 = 0.0f;
        for (int k = 0; k < d; ++k) {
            float u1 = uniform01(keys[0], base + 2u * k), u2 = uniform01(keys[0], base + 2u * k + 1u);
            p[k] = sqrt(-2.0f * log(u1)) * cos(2.0f * M_PI_F * u2);
            q0[k] = q[k];
            h0 += 0.5f * (iv[k] * q[k] * q[k] + p[k] * p[k]);
        }
        for (int k = 0; k < d; ++k) p[k] -= 0.5f * eps * iv[k] * q[k];
        for (int s = 0; s < steps; ++s) {
            for (int k = 0; k < d; ++k) q[k] += eps * p[k];
            float scale = s < steps - 1 ? eps : 0.5f * eps;
            for (int k = 0; k < d; ++k) p[k] -= scale * iv[k] * q[k];
        }
        float h1 = 0.0f;
        for (int k = 0; k < d; ++k) h1 += 0.5f * (iv[k] * q[k] * q[k] + p[k] * p[k]);
        float u = uniform01(keys[0], base + 2u * d);
        if (log(u) < h0 - h1) {
            ++count;
        } else {
            for (int k = 0; k < d; ++k) q[k] = q0[k];
        }
    }
    for (int k = 0; k < d; ++k) x[c * d + k] = q[k];
    accepted[c] = count;
}
"""


def _uniform(key: np.uint32, counter: np.ndarray) -> np.ndarray:
    return ((mix32(mix32(counter) ^ key) >> np.uint32(8)).astype(np.float64) + 0.5) / 16777216.0


class Hmc(KernelTask):
    name = "hmc"
    concurrent_references = True
    title = "hmc: Hamiltonian Monte Carlo chains, statistical check"
    regime = "compute"
    whole_variants = True
    contract = (
        "__kernel void hmc(const int chains, const int d, const int iters, const int steps, const float eps, "
        "__global const uint* keys, __global const float* inv_var, __global float* x, __global int* accepted): "
        "one chain per work-item c < chains, position x[c*d + k], d <= 32, target exp(-0.5 sum inv_var[k] x_k^2). "
        "Each of `iters` transitions: draw momenta p_k ~ N(0,1) from a counter-based generator seeded by keys[0] "
        "(distinct streams per chain and transition), leapfrog `steps` steps of size eps (half-step momentum at both "
        "ends), accept with probability min(1, exp(H0 - H1)) else restore. Write the final x and accepted[c] = number "
        "of accepted transitions. Grid: ceil(chains/LOCAL)*LOCAL work-items (runtime's choice when LOCAL = 0). "
        "Judged statistically: standardised moments of x and the acceptance rate. iters (10 to 14), steps "
        "(11 to 14) and eps (0.095 to 0.12) change from run to run."
    )
    seed = SEED
    tunables: ClassVar[dict[str, tuple[int, ...]]] = {"LOCAL": (64, 0, 16, 32, 128, 256)}
    sizes = (Size("c512", (512, 16)), Size("c2048", (2048, 16)), Size("c8192", (8192, 16)))
    heldout = (Size("heldout", (5000, 16)), Size("heldout-d24", (1500, 24)))
    smallest = (1, 1)
    largest = (None, MAXD)
    scalar_ranges: ClassVar[dict[str, ScalarRange]] = {
        "iters": ScalarRange(10, 14, default=ITERS, integer=True, why="at least the transitions the moments need"),
        "steps": ScalarRange(11, 14, default=STEPS, integer=True, why="with eps: see eps"),
        "eps": ScalarRange(
            0.095,
            0.12,
            default=EPS,
            why="a trajectory of eps*steps in [1.05, 1.68] turns every dimension (frequency 0.71 to 1.41) by "
            "0.74 to 2.4 radians, so that chains started 3 standard deviations out reach the target's moments "
            "within the transitions (cos^2 of the turn below 0.55 per transition); a shorter or longer one "
            "leaves a correct sampler short of them",
        ),
    }
    fixed_scalars = "MAXD (32): a compile-time bound of the contract (d <= 32)"

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        chains, d = size.dims
        local = params["LOCAL"]
        global_size, local_size = grid((chains,), (local,) if local else None)
        args = (
            i32(chains),
            i32(d),
            i32(int(self.scalar(size, "iters"))),
            i32(int(self.scalar(size, "steps"))),
            f32(self.scalar(size, "eps")),
            buf("keys"),
            buf("inv_var"),
            buf("x"),
            buf("accepted"),
        )
        return HostProgram(
            buffers=(
                BufferSpec("keys", "uint32", 1, "in"),
                BufferSpec("inv_var", "float32", d, "in"),
                BufferSpec("x", "float32", chains * d, "inout"),
                BufferSpec("accepted", "int32", chains, "out"),
            ),
            launches=(Launch("hmc", global_size, local_size, args),),
            outputs=("x", "accepted"),
        )

    def inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        chains, d = size.dims
        inv_var = rng.uniform(0.5, 2.0, d).astype(np.float32)
        start = 3.0 * rng.standard_normal((chains, d)) / np.sqrt(inv_var)
        return {
            "keys": rng.integers(0, 2**32, 1, dtype=np.uint32),
            "inv_var": inv_var,
            "x": start.astype(np.float32).reshape(-1),
        }

    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        chains, d = size.dims
        key = np.uint32(inputs["keys"][0])
        iv = inputs["inv_var"].astype(np.float64)
        q = inputs["x"].reshape(chains, d).astype(np.float64)
        count = np.zeros(chains, dtype=np.int64)
        chain = np.arange(chains, dtype=np.uint64)
        iters, steps, eps = self._scalars(size)
        for it in range(iters):
            base = ((chain * iters + it) * (d + 1) * 2).astype(np.uint32)
            k = np.arange(d, dtype=np.uint32)
            u1 = _uniform(key, base[:, None] + np.uint32(2) * k)
            u2 = _uniform(key, base[:, None] + np.uint32(2) * k + np.uint32(1))
            p = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
            q0 = q.copy()
            h0 = 0.5 * np.sum(iv * q * q + p * p, axis=1)
            p -= 0.5 * eps * iv * q
            # In place: the same operations in the same order as `q = q + eps * p` (bit-identical), with no
            # new array per leapfrog step.
            for s in range(steps):
                q += eps * p
                p -= (eps if s < steps - 1 else 0.5 * eps) * iv * q
            h1 = 0.5 * np.sum(iv * q * q + p * p, axis=1)
            u = _uniform(key, base + np.uint32(2 * d))
            accept = np.log(u) < h0 - h1
            count += accept
            q = np.where(accept[:, None], q, q0)
        return {"x": q.reshape(-1), "accepted": count.astype(np.int32)}

    def check(
        self, size: Size, name: str, got: np.ndarray, expected: np.ndarray, inputs: dict[str, np.ndarray]
    ) -> Check:
        chains, d = size.dims
        if name == "accepted":
            iters = self._scalars(size)[0]
            if np.any(got < 0) or np.any(got > iters):
                return Check(False, math.inf, 0.0, f"acceptance counts outside [0, {iters}]")
            rate, want = float(np.mean(got)) / iters, float(np.mean(expected)) / iters
            limit = 0.02 + 6.0 * math.sqrt(max(want * (1 - want), 1e-4) / chains)
            same = float(np.mean(got == expected))
            ok = abs(rate - want) <= limit and same >= FOLLOW
            detail = "" if ok else f"acceptance rate {rate:.4f}, reference {want:.4f}; {same:.1%} of chains agree"
            return Check(ok, abs(rate - want), limit, detail)
        x = got.astype(np.float64).reshape(chains, d)
        if not np.all(np.isfinite(x)):
            return Check(False, math.inf, 0.0, "non-finite positions")
        standard = x * np.sqrt(inputs["inv_var"].astype(np.float64))
        per_dim = np.mean(standard**2, axis=0)
        pooled = float(np.mean(per_dim))
        mean = float(np.max(np.abs(np.mean(standard, axis=0))))
        pooled_limit = 0.02 + 6.0 * math.sqrt(2.0 / (chains * d))
        dim_limit = 0.02 + 6.0 * math.sqrt(2.0 / chains)
        mean_limit = 6.0 / math.sqrt(chains)
        worst_dim = float(np.max(np.abs(per_dim - 1.0)))
        problems = []
        target = expected.astype(np.float64).reshape(chains, d)
        close = np.abs(x - target) <= FOLLOW_TOLERANCE * (1.0 + np.abs(target))
        follow = float(np.mean(np.all(close, axis=1)))
        if follow < FOLLOW:
            problems.append(
                f"only {follow:.1%} of chains end where their reference trajectory ends (want {FOLLOW:.0%})"
            )
        if abs(pooled - 1.0) > pooled_limit:
            problems.append(f"pooled standardised variance {pooled:.4f} (want 1 +- {pooled_limit:.4f})")
        if worst_dim > dim_limit:
            problems.append(f"a dimension's standardised variance is off by {worst_dim:.4f} (limit {dim_limit:.4f})")
        if mean > mean_limit:
            problems.append(f"a dimension's standardised mean is {mean:.4f} (limit {mean_limit:.4f})")
        return Check(not problems, abs(pooled - 1.0), pooled_limit, "; ".join(problems))

    def heldout_dims(self, centre: Size, rng: np.random.Generator, pick: Picker = prime_in) -> tuple[int, ...]:
        """A number of chains and a dimension of `pick`'s kind (primes), the dimension no larger than MAXD."""
        chains, d = centre.dims
        return pick(*around(chains), rng), pick(*around(d, maximum=MAXD), rng)

    def work(self, size: Size) -> Work:
        chains, d = size.dims
        iters, steps, _ = self._scalars(size)
        return Work(bytes=8.0 * chains * d + 4.0 * chains, flops=float(chains * iters * d * (5 * steps + 36)))

    def _scalars(self, size: Size) -> tuple[int, int, float]:
        """Transitions, leapfrog steps and step size at `size` (drawn, or the defaults)."""
        return int(self.scalar(size, "iters")), int(self.scalar(size, "steps")), self.scalar(size, "eps")
