"""What the steady case families (channel, step, hill) do alike beyond the shared figures of `_final`:
the metrics every one of them reports, its one comparison figure, the SA coefficients read back from a
case, and the gentler rerun (twice the iterations, up to a cap).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tools._workload import OutputFile
from tools.cfd._render import render_curves
from tools.cfd.cases._final import FinalState
from tools.cfd.cases._rans import SACoefficients
from tools.cfd.openfoam._fields import FloatArray

Series = tuple[FloatArray, FloatArray, str, str]
"""One line or set of points of a panel: (x, y, matplotlib style, legend)."""


def flow_metrics(final: FinalState, speed: float) -> dict[str, float]:
    """The last iteration written and the fastest cell in units of the case's reference `speed`."""
    return {
        "end_time": final.time,
        "max_speed_ratio": float(np.max(np.linalg.norm(final.velocity, axis=1)) / speed),
    }


def comparison_figure(
    directory: Path, name: str, label: str, series: list[Series], axes: tuple[str, str], title: str
) -> OutputFile:
    """Draw the case's one comparison with its reference under figures/`name` and list it as an output."""
    render_curves(directory / "figures" / name, [(label, series, *axes)], title=title)
    return OutputFile(path=f"figures/{name}", kind="image", role="comparison-figure")


def sa_parameters(model: str, coefficients: dict[str, Any]) -> dict[str, Any]:
    """The `sa` parameter read back from a case's Spalart-Allmaras coefficients; empty for another model
    or a case that sets none."""
    if model != "SpalartAllmaras" or not coefficients:
        return {}
    return {"sa": {name: value for name, value in coefficients.items() if name in SACoefficients.model_fields}}


def doubled_iterations(params: dict[str, Any], iterations: int, cap: int) -> tuple[dict[str, Any], str] | None:
    """The gentler rerun of a steady case: twice the iterations, while they are below `cap`."""
    if iterations >= cap:
        return None
    return {**params, "iterations": iterations * 2}, f"double the iterations to {iterations * 2}"
