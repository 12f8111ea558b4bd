"""How each run's input variant reaches the worker: as a message of its own, read just before that run.

A request once carried every run's variant. A kernel runs in the worker's address space (on PoCL's
CPU device its loads reach the whole process), so during the untimed first run it could read every
later run's inputs there, compute their answers, and hand them back at copy speed in the timed runs:
correct at every checked run, timed far below the work. Now the request carries the base inputs and
the names of the runs whose variants follow (`streamed`); the worker reads run r's variant from the
pipe as run r begins (`VariantFeed`). Until then those bytes wait in the pipe's buffer, in the
operating system's memory, which no load of the worker reaches; the protocol reads every message by
its exact length, so no reader buffer holds the next one early either. After the request the worker
reads, and overwrites, the variants it did not use. The variant of a run already done stays
harmless: the harness draws new variants for every request (`Harness.evaluate`), so none comes back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from tools.kernels._protocol import ProtocolError, read_message

VARIANT_KEY = re.compile(r"variant(\d+):.+:(?:index|value)")
"""The protocol name of one part of run r's variant (`draw_variants`)."""


def streamed(
    header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> list[tuple[dict[str, Any], dict[str, np.ndarray]]]:
    """The messages one request becomes, in the order written: the request without its variants, naming
    the runs whose variants follow (`streamed`), then one message per such run, in run order."""
    runs: dict[int, dict[str, np.ndarray]] = {}
    rest: dict[str, np.ndarray] = {}
    for name, array in arrays.items():
        match = VARIANT_KEY.fullmatch(name)
        if match is None:
            rest[name] = array
        else:
            runs.setdefault(int(match[1]), {})[name] = array
    if not runs:
        return [(dict(header), rest)]
    order = sorted(runs)
    return [({**header, "streamed": order}, rest), *(({"op": "variant", "run": run}, runs[run]) for run in order)]


class VariantFeed:
    """The worker's side: the variant of the run it is about to prepare, read from the pipe no earlier."""

    def __init__(self, inbox: BinaryIO, runs: object) -> None:
        if not isinstance(runs, list) or not all(isinstance(r, int) and not isinstance(r, bool) for r in runs):
            raise ProtocolError(f"the runs whose variants follow are not a list of run numbers: {str(runs)[:200]}")
        if runs != sorted(set(runs)):
            raise ProtocolError("the runs whose variants follow are not in increasing order")
        self.inbox = inbox
        self.pending = list(runs)
        self.run = -1
        self.current: dict[str, np.ndarray] = {}

    def arrays(self, run: int) -> Mapping[str, np.ndarray]:
        """Run `run`'s variant, as `variant{run}:{name}:index|value` arrays (none for a run without one).

        Runs are asked for in order (the candidate and the rival may each ask for the same run); the
        variants of runs skipped over are read and overwritten on the way.
        """
        if run < self.run:
            raise ValueError(f"run {run}'s variant was asked for after run {self.run}'s")
        while self.pending and self.pending[0] <= run:
            self._next()
        return self.current if run == self.run else {}

    def drain(self) -> None:
        """Read the variants the request did not use, so that the next message read is the next request."""
        while self.pending:
            self._next()
        self._forget()

    def _next(self) -> None:
        expected = self.pending.pop(0)
        header, arrays = read_message(self.inbox)
        if header.get("op") != "variant" or header.get("run") != expected:
            raise ProtocolError(f"expected run {expected}'s variant, got {str(header)[:200]}")
        self._forget()
        self.run, self.current = expected, arrays

    def _forget(self) -> None:
        for array in self.current.values():
            if array.flags.writeable:
                array.fill(0)
        self.current = {}
