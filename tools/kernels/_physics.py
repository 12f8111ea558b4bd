"""The physics sanity check: no kernel finishes faster than the device can move its bytes or do its FLOPs.

The bound is the roofline with this device's best measured ceilings: compulsory bytes over the
fastest bandwidth any probe reached (triad or in-place update, whichever moved bytes faster, at any
working-set size, so a cache-resident run is not held to DRAM speed) and useful FLOPs over the
measured FMA peak. A measured time below the bound divided by MARGIN is a rejection ("faster than
physically possible"), never a record: it means the work was not done, was done outside the timed
launches, or the timing was tampered with. MARGIN absorbs probe noise and roofline models that count
a few operations a compiler can fold.
"""

from __future__ import annotations

from typing import Any

from tools.kernels._task import Work

MARGIN = 3.0


def floor_seconds(work: Work, ceilings: dict[str, Any] | None, margin: float = MARGIN) -> float:
    """The fastest time this work may take on this device (0 when no ceilings were measured)."""
    if not ceilings:
        return 0.0
    rates = [*ceilings.get("triad_gbps", {}).values(), *ceilings.get("update_gbps", {}).values()]
    bandwidth = max((float(v) for v in rates), default=0.0)
    peak = float(ceilings.get("fma_gflops") or 0.0)
    memory = work.bytes / (bandwidth * 1e9) if bandwidth > 0 else 0.0
    compute = work.flops / (peak * 1e9) if peak > 0 else 0.0
    return max(memory, compute) / margin


def impossible(times: list[float], work: Work, ceilings: dict[str, Any] | None, margin: float = MARGIN) -> str:
    """Why the fastest timed run is physically impossible, or "" when it is not."""
    floor = floor_seconds(work, ceilings, margin)
    if not times or floor <= 0:
        return ""
    fastest = min(times)
    if fastest >= floor:
        return ""
    return (
        f"faster than physically possible: a run took {fastest * 1e3:.4g} ms, but moving {work.bytes:.3g} bytes "
        f"and doing {work.flops:.3g} FLOPs takes at least {floor * margin * 1e3:.4g} ms on this device "
        f"(rejected below 1/{margin:g} of that)"
    )
