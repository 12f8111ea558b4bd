"""Held-out sizes drawn per judging run, so that no kernel can enumerate them.

A task declares its held-out sizes as centres; each judging run draws fresh dimensions around
them (from 0.75x to 1.3x, as primes: odd, and no power-of-two or multiple of a work-group size
to lean on), all dimensions of one size different from each other (no square or cubic grid), from
a generator seeded by the seed recorded in the verdict. Tasks whose dimensions must have a shape
(powers of two for an FFT, even sides for a checkerboard) override `KernelTask.heldout_dims`.

Beside those timed sizes a judging run checks correctness once at sizes of other kinds
(`RESIDUE_PICKERS`): powers of two times odd primes, composite odd parts and plain random integers,
every kind around every centre (near the smallest alone, a kernel wrong only at large sizes of one
kind passed), drawn through the same `heldout_dims` so that shape rules still hold.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from runs import LabgateError

LOW, HIGH = 0.75, 1.3


_WITNESSES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
"""Miller-Rabin bases that decide primality exactly for every n below 3.3e24."""


def is_prime(n: int) -> bool:
    """Whether `n` is prime, in microseconds at any size a task file can declare.

    Trial division took seconds per number near 1e17 (a task file's held-out range may reach that
    far when its buffers do not grow with the size), and the prime search tries many numbers.
    """
    if n < 2:
        return False
    for small in _WITNESSES:
        if n % small == 0:
            return n == small
    odd, twos = n - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for base in _WITNESSES:
        x = pow(base, odd, n)
        if x in (1, n - 1):
            continue
        for _ in range(twos - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


Picker = Callable[[int, int, np.random.Generator], int]
"""Draws one dimension in [low, high] of some arithmetic kind; raises `NoDimensionError` where the range holds none."""


class NoDimensionError(LabgateError, LookupError):
    """The range holds no dimension of the kind asked for (a correctness-only size is then left out)."""


def around(centre: int, *, minimum: int = 3, maximum: int | None = None) -> tuple[int, int]:
    """The range [LOW*centre, HIGH*centre] a held-out dimension is drawn from, clamped to [minimum, maximum]."""
    low = max(minimum, int(LOW * centre))
    high = max(low, int(HIGH * centre))
    if maximum is not None:
        high, low = min(high, maximum), min(low, maximum)
    return low, high


def prime_in(low: int, high: int, rng: np.random.Generator) -> int:
    """A random prime in [low, high] where the range holds one, else any integer of it."""
    for _ in range(32):
        candidate = int(rng.integers(low, high + 1))
        while candidate <= high and not is_prime(candidate):
            candidate += 1
        if candidate <= high:
            return candidate
    down = high
    while down >= low and not is_prime(down):
        down -= 1
    return down if down >= low else int(rng.integers(low, high + 1))


def any_in(low: int, high: int, rng: np.random.Generator) -> int:
    """Any integer of [low, high], uniformly: a size no arithmetic test tells apart from an unchecked one."""
    return int(rng.integers(low, high + 1))


def times_odd_prime(power: int) -> Picker:
    """`power` times an odd prime (or odd number where the range holds no such prime): n = power mod 2*power."""

    def pick(low: int, high: int, rng: np.random.Generator) -> int:
        first, last = max(-(-low // power), 3), high // power
        if first > last:
            raise NoDimensionError(f"no multiple of {power} with an odd cofactor in [{low}, {high}]")
        odd = prime_in(first, last, rng)
        if odd % 2 == 0:
            odd = odd + 1 if odd < last else odd - 1
        if odd % 2 == 0 or not first <= odd <= last:
            raise NoDimensionError(f"no odd multiple of {power} in [{low}, {high}]")
        return power * odd

    return pick


SMALL_ODD = (3, 5, 7, 9, 11, 13, 15)
"""The odd factors a composite size is built from: every width a tile, a vector or an unrolled loop
plausibly divides by, beyond the powers of two."""


def composite_in(low: int, high: int, rng: np.random.Generator) -> int:
    """A size whose odd part is composite: two small odd factors, a power of two up to 16, any cofactor.

    The drawn held-out sizes are primes and the others powers of two times primes, so a kernel could
    tell every checked size from the rest by whether its odd part has a small factor; this one always has.
    """
    factors = [
        (a * b) << shift
        for a in SMALL_ODD
        for b in SMALL_ODD
        for shift in range(5)
        if -(-low // ((a * b) << shift)) <= high // ((a * b) << shift)
    ]
    if factors:
        factor = factors[int(rng.integers(len(factors)))]
        return factor * int(rng.integers(-(-low // factor), high // factor + 1))
    raise NoDimensionError(f"no composite size in [{low}, {high}]")


EVEN_POWERS = (2, 4, 8, 16)
"""The powers of two of the `times_odd_prime` sizes: every vector width's tail class that the search's
sizes (multiples of large powers of two) and the odd primes miss."""

RESIDUE_PICKERS: tuple[tuple[str, Picker], ...] = (
    *((f"even{power}", times_odd_prime(power)) for power in EVEN_POWERS),
    ("composite", composite_in),
    ("any1", any_in),
    ("any2", any_in),
)
"""The correctness-only held-out sizes a judging run adds, by label suffix: no arithmetic property is
shared by every size any gate checks, so no kernel can be right only where it is looked at."""


_GF4_TIMES = ((0, 0, 0, 0), (0, 1, 2, 3), (0, 2, 3, 1), (0, 3, 1, 2))
"""Multiplication in the field of four elements (2 is x, 3 is x + 1, x^2 = x + 1); addition is XOR."""
MAX_COVERED_DIMENSIONS = 5
"""The most dimensions `residue_rows` covers pairwise (its orthogonal array has five columns)."""


def residue_rows(dimensions: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Sixteen tuples of residues mod 4, one per dimension, in which every two dimensions take every pair of
    residues once (an orthogonal array of strength 2 over the field of four elements, columns a, b, a + b,
    a + xb, a + (x+1)b), with each dimension's residues relabelled and the rows ordered at random.

    Each residue size gave every dimension one kind: a heat2d kernel wrong only where nx = 2 and ny = 3 (mod 4)
    went unchecked in two judging runs of three and was accepted at 1.38x the seed. Sizes with these residues
    check every joint residue class of every two dimensions, in every judging run.
    """
    if not 1 <= dimensions <= MAX_COVERED_DIMENSIONS:
        raise ValueError(f"residue rows cover 1 to {MAX_COVERED_DIMENSIONS} dimensions, not {dimensions}")
    labels = [rng.permutation(4) for _ in range(dimensions)]
    rows = []
    for a in range(4):
        for b in range(4):
            columns = (a, b, a ^ b, a ^ _GF4_TIMES[2][b], a ^ _GF4_TIMES[3][b])
            rows.append(tuple(int(labels[d][columns[d]]) for d in range(dimensions)))
    return [rows[int(i)] for i in rng.permutation(len(rows))]


def with_residue(residue: int, modulus: int = 4) -> Picker:
    """Any integer of the range that is `residue` modulo `modulus`, uniformly."""

    def pick(low: int, high: int, rng: np.random.Generator) -> int:
        first = low + (residue - low) % modulus
        if first > high:
            raise NoDimensionError(f"no size {residue} mod {modulus} in [{low}, {high}]")
        return first + modulus * int(rng.integers(0, (high - first) // modulus + 1))

    return pick


def per_dimension(pickers: Sequence[Picker]) -> Picker:
    """A picker that draws its first dimension with `pickers[0]`, the next with `pickers[1]`, and so on (a shape
    rule calls it once per free dimension, in order; past the last it starts again)."""
    calls = itertools.count()

    def pick(low: int, high: int, rng: np.random.Generator) -> int:
        return pickers[next(calls) % len(pickers)](low, high, rng)

    return pick


def distinct(draw: Callable[[], tuple[int, ...]], tries: int = 64) -> tuple[int, ...]:
    """`draw()` again until all its dimensions differ (a single dimension always qualifies)."""
    dims = draw()
    for _ in range(tries):
        if len(set(dims)) == len(dims):
            return dims
        dims = draw()
    return dims
