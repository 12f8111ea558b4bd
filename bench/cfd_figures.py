"""CPU of a cavity case's velocity figure: labgate's streamline tracer against matplotlib's `streamplot`.

Both arms draw the same figure (`tools.cfd._draw.field_panels`: velocity magnitude with streamlines beside
the pressure) from the same field, a lid-driven-cavity-like vortex from a stream function, on square grids
of several sizes; the arms take turns in every repeat, and each repeat's CPU time of the drawing process
is recorded. Prints the medians per size and arm, their ratio, and one JSON line.

Usage: .venv/bin/python bench/cfd_figures.py [--repeats 7] [--cells 32,64,128]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tools.cfd import _draw  # noqa: E402 - after the repository is on the path


def cavity_like(cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cell centres of a 0.1 m cavity, a primary vortex under a moving lid, and a pressure field."""
    xs = (np.arange(cells) + 0.5) * 0.1 / cells
    ys = xs.copy()
    gx, gy = np.meshgrid(xs / 0.1, ys / 0.1)
    psi = (gx * (1 - gx)) ** 2 * (gy * (1 - gy)) ** 2 * (1 + 3 * gy)
    u = np.gradient(psi, ys, axis=0)
    v = -np.gradient(psi, xs, axis=1)
    velocity = np.stack([u, v, np.zeros_like(u)], axis=-1)
    velocity /= np.abs(velocity).max()
    return xs, ys, velocity, np.cos(3 * gx) * gy


def matplotlib_streamplot(
    axis: Any, xs: Any, ys: Any, u: Any, v: Any, *, density: float, linewidth: float, arrowsize: float
) -> None:
    """The drawing labgate used before its own tracer, with the same options."""
    axis.streamplot(xs, ys, u, v, color="white", density=density, linewidth=linewidth, arrowsize=arrowsize)


def draw_once(path: Path, cells: int) -> float:
    xs, ys, velocity, pressure = cavity_like(cells)
    started = time.process_time()
    _draw.field_panels(path, xs, ys, velocity, pressure, title="cavity", velocity_scale=1.0, length_scale=0.1)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cells", default="32,64,128", help="comma-separated grid sizes")
    args = parser.parse_args()
    sizes = [int(part) for part in args.cells.split(",")]
    tracer = _draw.streamlines
    arms = {"labgate": tracer, "streamplot": matplotlib_streamplot}
    out = Path(tempfile.mkdtemp(prefix="labgate-figures-"))
    _draw.pyplot()
    for arm in arms.values():  # fonts, caches and first-use imports, outside the timings
        _draw.streamlines = arm
        draw_once(out / "warm.png", 16)
    seconds: dict[int, dict[str, list[float]]] = {size: {name: [] for name in arms} for size in sizes}
    for repeat in range(args.repeats):
        for size in sizes:
            order = list(arms) if repeat % 2 == 0 else list(reversed(arms))
            for name in order:
                _draw.streamlines = arms[name]
                seconds[size][name].append(draw_once(out / f"{name}-{size}.png", size))
    _draw.streamlines = tracer
    rows = {}
    for size in sizes:
        medians = {name: statistics.median(values) for name, values in seconds[size].items()}
        ratio = medians["streamplot"] / medians["labgate"]
        rows[size] = {**{name: round(value, 4) for name, value in medians.items()}, "ratio": round(ratio, 2)}
        print(
            f"{size}x{size}: velocity figure CPU, labgate tracer {medians['labgate']:.3f} s, "
            f"streamplot {medians['streamplot']:.3f} s: {ratio:.2f}x"
        )
    print(json.dumps({"benchmark": "cfd_figures", "repeats": args.repeats, "cpu_seconds": rows}))


if __name__ == "__main__":
    main()
