"""The write-up gate: every number in model-written prose must be found in the run's own record.

The record is what the harness and the gates produced (metrics, parameters, the deterministic
report built from them, cited passages). A number the model wrote that matches none of them, to
the precision the model wrote it, is an invented number and fails the prose.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from runs import GateResult

_NUMBER = re.compile(r"(?<![\w.])[-+−]?(?:\d+(?:[.,]\d+)*|\.\d+)(?:[eE][-+]?\d+)?(?:\s*%)?")


def numbers_in(text: str) -> list[tuple[str, float]]:
    """(as written, value) for each number in `text`; '1,000' is a thousand, '12 %' is 12."""
    found = []
    for match in _NUMBER.finditer(text):
        written = match.group(0).strip()
        core = written.rstrip("%").strip().replace("−", "-")
        if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", core):
            core = core.replace(",", "")
        elif "," in core:
            continue  # "100,400" is a list, not a number; its parts are matched on their own
        try:
            found.append((written, float(core)))
        except ValueError:
            continue
    return found


def _decimals(written: str) -> int:
    mantissa = written.rstrip("%").strip().split("e")[0].split("E")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def supported(written: str, value: float, allowed: Iterable[float]) -> bool:
    """Whether a written number equals an allowed value at the precision it was written with."""
    percent = written.endswith("%")
    exponent = re.search(r"[eE]([-+]?\d+)", written)
    scale = 10.0 ** int(exponent.group(1)) if exponent else 1.0
    half_step = 0.5 * 10.0 ** (-_decimals(written)) * scale
    for candidate in allowed:
        for target in (candidate * 100.0, candidate) if percent else (candidate,):
            if math.isfinite(target) and abs(abs(value) - abs(target)) <= half_step * (1 + 1e-9) + 1e-12:
                return True
    return False


def check_prose(prose: str, allowed: Iterable[float]) -> GateResult:
    allowed_values = [value for value in allowed if math.isfinite(value)]
    unsupported = [written for written, value in numbers_in(prose) if not supported(written, value, allowed_values)]
    if unsupported:
        return GateResult(
            gate="write-up",
            decision="reject",
            reasons=[f"numbers found in no artifact of the run: {', '.join(unsupported[:10])}"],
        )
    count = len(numbers_in(prose))
    return GateResult(
        gate="write-up", decision="accept", reasons=[f"all {count} numbers in the prose are in the record"]
    )
