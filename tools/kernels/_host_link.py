"""The worker's side of a request's conversation with the host: inputs asked for, launches clocked by the host.

This is the upload protocol, for devices with memory of their own (a GPU: its kernels cannot reach the
worker). Where kernels run in the worker's memory (PoCL's CPU device) the worker receives no input at
all and only launches when told (`_launcher`, `_placed`), since a worker taken over by its kernel can
compute on anything it receives before the host's clock starts.

On PoCL's CPU device a candidate's kernel is native code in the worker and can read and write the
whole process; a kernel that found its way to the interpreter's frames rewrote the durations the
worker had recorded, and a candidate doing the seed's work was accepted at 1.46x the seed. So no time
that counts is taken in the worker: before each launch the worker tells the host it is ready and
waits; the host notes its own clock and says go; after the launch the worker says done, and the host
notes its clock again (`_host_clock`). The device's own duration travels with `done`, but the host
never takes it for more than its own bracket allows.

Run r's input variant is asked for as run r begins (`variant`), and the host sends it only then:
until that moment it is in the host's memory, out of every kernel's reach (a kernel reading ahead
could otherwise compute a later run's answer during an untimed run). `LocalLink` is the same
conversation without a host, for code that drives the trial in-process (tests that make a device lie).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, BinaryIO, Protocol

import numpy as np

from tools.kernels._protocol import ProtocolError, read_message, write_message

VARIANT_KEY = re.compile(r"variant(\d+):.+:(?:index|value)")
"""The protocol name of one part of run r's variant (`draw_variants`)."""


class Link(Protocol):
    def variant(self, run: int, timed: bool) -> Mapping[str, np.ndarray]:
        """Run `run`'s variant arrays (`variant{run}:{name}:index|value`; none for a run without one).

        `timed`: the run is one of the timed ones, so the host may run the rival first (before this
        run's inputs are uploaded, as the rival's are before its own launch)."""

    def ready(self, run: int, timed: bool) -> None:
        """Run `run` is prepared; returns when the host has started its clock."""

    def done(self, run: int, seconds: float) -> None:
        """Run `run`'s launches have finished; `seconds` is the device's own account of them."""

    def command(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The host's next instruction (a session that the host drives run by run)."""

    def tell(self, header: Mapping[str, Any]) -> None:
        """A message to the host before the request's reply (a session saying it is prepared)."""


def split_runs(arrays: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[int, dict[str, np.ndarray]]]:
    """A request's arrays as the base (sent with it) and each run's variant (sent when that run asks)."""
    base: dict[str, np.ndarray] = {}
    runs: dict[int, dict[str, np.ndarray]] = {}
    for name, array in arrays.items():
        match = VARIANT_KEY.fullmatch(name)
        if match is None:
            base[name] = array
        else:
            runs.setdefault(int(match[1]), {})[name] = array
    return base, runs


class HostLink:
    """The pipes to the host: requests and answers on stdin, everything the worker says on stdout."""

    def __init__(self, inbox: BinaryIO, outbox: BinaryIO) -> None:
        self.inbox = inbox
        self.outbox = outbox
        self.current: dict[str, np.ndarray] = {}

    def variant(self, run: int, timed: bool) -> Mapping[str, np.ndarray]:
        self.forget()
        write_message(self.outbox, {"op": "want", "run": run, "timed": timed})
        header, arrays = read_message(self.inbox)
        if header.get("op") != "variant" or header.get("run") != run:
            raise ProtocolError(f"expected run {run}'s variant, got {str(header)[:200]}")
        self.current = arrays
        return arrays

    def ready(self, run: int, timed: bool) -> None:
        write_message(self.outbox, {"op": "ready", "run": run, "timed": timed})
        header, _ = read_message(self.inbox)
        if header.get("op") != "go" or header.get("run") != run:
            raise ProtocolError(f"expected the host's go for run {run}, got {str(header)[:200]}")

    def done(self, run: int, seconds: float) -> None:
        write_message(self.outbox, {"op": "done", "run": run, "seconds": seconds})

    def tell(self, header: Mapping[str, Any]) -> None:
        write_message(self.outbox, header)

    def command(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self.forget()
        header, arrays = read_message(self.inbox)
        self.current = arrays
        return header, arrays

    def forget(self) -> None:
        """Overwrite the last variant received (the inputs of a run that is over)."""
        for array in self.current.values():
            if array.flags.writeable:
                array.fill(0)
        self.current = {}


class LocalLink:
    """No host: variants come from the request's own arrays, and the device's durations stand."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = arrays

    def variant(self, run: int, timed: bool) -> Mapping[str, np.ndarray]:
        return self.arrays

    def ready(self, run: int, timed: bool) -> None:
        pass

    def done(self, run: int, seconds: float) -> None:
        pass

    def tell(self, header: Mapping[str, Any]) -> None:
        pass

    def command(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise ProtocolError("an in-process trial has no host to drive it")
