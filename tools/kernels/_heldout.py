"""Held-out sizes drawn per judging run, so that no kernel can enumerate them.

A task declares its held-out sizes as centres; each judging run draws fresh dimensions around
them (from 0.75x to 1.3x, as primes: odd, and no power-of-two or multiple of a work-group size
to lean on), all dimensions of one size different from each other (no square or cubic grid), from
a generator seeded by the seed recorded in the verdict. Tasks whose dimensions must have a shape
(powers of two for an FFT, even sides for a checkerboard) override `KernelTask.heldout_dims`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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


def prime_near(centre: int, rng: np.random.Generator, *, minimum: int = 3, maximum: int | None = None) -> int:
    """A random prime in [LOW*centre, HIGH*centre], clamped to [minimum, maximum]."""
    low = max(minimum, int(LOW * centre))
    high = max(low, int(HIGH * centre))
    if maximum is not None:
        high, low = min(high, maximum), min(low, maximum)
    for _ in range(64):
        candidate = int(rng.integers(low, high + 1))
        while not is_prime(candidate) and candidate <= high:
            candidate += 1
        if candidate <= high:
            return candidate
    down = high
    while down > 2 and not is_prime(down):
        down -= 1
    return down


def distinct(draw: Callable[[], tuple[int, ...]], tries: int = 64) -> tuple[int, ...]:
    """`draw()` again until all its dimensions differ (a single dimension always qualifies)."""
    dims = draw()
    for _ in range(tries):
        if len(set(dims)) == len(dims):
            return dims
        dims = draw()
    return dims
