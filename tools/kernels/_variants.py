"""Input variants: every run of the host program sees inputs no earlier run saw.

A kernel that remembers its answer (in a program-scope variable, a scratch buffer, the guard
bytes, or any memory the device keeps between launches) returns the right output when the
inputs repeat. So run `r > 0` starts from the base inputs with a random subset of elements
replaced by those of a second draw from the task's own input distribution (or, for tasks whose
buffers must agree with each other, with a whole new draw): the inputs stay valid, the reference
changes, and a remembered answer is wrong where it matters. The variants
travel as (index, value) arrays, a small fraction of the inputs, and both sides apply them the same
way (`inputs_of`, or `RunInputs` where a copy per run would cost too much), so the worker and the
host agree on what each run computed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager

import numpy as np

CHANGED_FRACTION = 1 / 64
"""Share of a large buffer's elements that each variant changes; small buffers change more often."""


MAX_ATTEMPTS = 64
"""Variants drawn for one run before a distribution that never changes an element is an error, not a hang."""


def _changed(count: int, rng: np.random.Generator) -> np.ndarray:
    """Each element independently with the same probability, drawn as geometric gaps between picks.

    The gaps of a Bernoulli process are geometric, so this is the same distribution as one coin per
    element, at the cost of the picks rather than of the whole buffer (a 32 MB buffer: 3 ms, not 200).
    """
    probability = min(0.5, max(CHANGED_FRACTION, 4.0 / max(count, 1)))
    picks: list[np.ndarray] = []
    last = -1
    while last < count:
        gaps = rng.geometric(probability, int(count * probability * 1.1) + 16)
        positions = last + np.cumsum(gaps)
        picks.append(positions)
        last = int(positions[-1])
    chosen = np.concatenate(picks)
    return chosen[chosen < count].astype(np.uint32)


def draw_variants(
    base: Mapping[str, np.ndarray],
    draw: Callable[[], Mapping[str, np.ndarray]],
    runs: int,
    rng: np.random.Generator,
    *,
    whole: bool = False,
    whole_runs: Collection[int] = (),
    skip: Collection[int] = (),
) -> dict[str, np.ndarray]:
    """Protocol arrays `variant{r}:{name}:index|value` for runs 1..runs-1 (run 0 uses `base` as is).

    `draw()` is a fresh draw from the task's input distribution. Elementwise (the default) one
    draw serves every run, each run taking a different random subset of its elements; `whole`
    (for tasks whose buffers must stay consistent with each other, such as cell lists) replaces
    every element with a new draw per run, and so do the runs in `whole_runs` alone. Runs in
    `skip` get none (the caller has theirs). A variant that changes nothing is drawn again.
    """
    arrays: dict[str, np.ndarray] = {}
    shared: Mapping[str, np.ndarray] | None = None
    for run in range(1, runs):
        if run in skip:
            continue
        entire = whole or run in whole_runs
        changed, attempts = 0, 0
        while changed == 0:
            attempts += 1
            if attempts > MAX_ATTEMPTS:
                raise ValueError(
                    f"the task's input distribution gave no changed element in {MAX_ATTEMPTS} draws: "
                    "its inputs are constant, so no run can get inputs of its own"
                )
            if entire:
                other = draw()
            else:
                if shared is None:
                    shared = draw()
                other = shared
            changed = 0
            for name, data in base.items():
                flat = np.asarray(data).reshape(-1)
                index = np.arange(flat.size, dtype=np.uint32) if entire else _changed(flat.size, rng)
                values = np.asarray(other[name]).reshape(-1)[index.astype(np.int64)]
                changed += int(np.count_nonzero(values.view(np.uint8) != flat[index.astype(np.int64)].view(np.uint8)))
                arrays[f"variant{run}:{name}:index"] = index
                arrays[f"variant{run}:{name}:value"] = values
    return arrays


def inputs_of(base: Mapping[str, np.ndarray], arrays: Mapping[str, np.ndarray], run: int) -> dict[str, np.ndarray]:
    """The inputs of run `run`: the base with that run's variant applied (fresh copies)."""
    result = {}
    for name, data in base.items():
        flat = np.array(data, copy=True).reshape(-1)
        index = arrays.get(f"variant{run}:{name}:index")
        if index is not None:
            flat[index.astype(np.int64)] = arrays[f"variant{run}:{name}:value"]
        result[name] = flat
    return result


class RunInputs:
    """Flat working copies of some base inputs that hold one run's variant at a time.

    Inside `run(r)` the copies are, byte for byte, what `inputs_of(base, arrays, r)` returns for those
    names; on leaving, the changed elements get their base values back. A run then costs its few
    changed elements instead of a copy of every input (the worker uploads from the copies, the host
    hashes them).
    """

    def __init__(
        self,
        base: Mapping[str, np.ndarray],
        variant: Callable[[int], Mapping[str, np.ndarray]],
        names: list[str],
    ) -> None:
        """`variant(r)`: run r's variant arrays (`variant{r}:{name}:index|value`), asked for as run r begins."""
        self.base = {name: np.asarray(base[name]).reshape(-1) for name in names}
        self.work = {name: data.copy() for name, data in self.base.items()}
        self.variant = variant

    @contextmanager
    def run(self, run: int) -> Iterator[Mapping[str, np.ndarray]]:
        applied: list[tuple[str, np.ndarray]] = []
        arrays = self.variant(run)
        try:
            for name, work in self.work.items():
                index = arrays.get(f"variant{run}:{name}:index")
                if index is not None:
                    positions = index.astype(np.int64)
                    work[positions] = arrays[f"variant{run}:{name}:value"]
                    applied.append((name, positions))
            yield self.work
        finally:
            for name, positions in applied:
                self.work[name][positions] = self.base[name][positions]
