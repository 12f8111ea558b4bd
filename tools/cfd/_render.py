"""Figures of a CFD result, drawn by the harness from the files the solver wrote.

Figures are evidence for reviewers and for the vision gate, so each one says what it shows
(quantity, units, time, reference source) in its own title and labels. The drawing itself is in
`tools.cfd._draw`; each `render_*` here hands it to a renderer process (`tools.cfd._render_pool`):
inside `figures_together()` the figures of a case are drawn in parallel and waited for when the
block ends; elsewhere each call returns once its figure is written.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np

from tools.cfd import _draw
from tools.cfd._render_pool import draw, start_renderers
from tools.cfd.cases._reference import ReferenceProfile
from tools.cfd.openfoam._fields import FloatArray
from tools.cfd.openfoam._logs import SolverLog


def warm_up() -> None:
    """Start the renderers (importing matplotlib) while a solver runs, so figures start at once afterwards."""
    if not start_renderers():  # figures are drawn in this process: import matplotlib in the background
        threading.Thread(target=_draw.pyplot, name="matplotlib-warm-up", daemon=True).start()


def _reference(profile: ReferenceProfile) -> _draw.Reference:
    """What the drawing reads of a reference profile, as builtins a renderer can load without labgate."""
    plain = SimpleNamespace(
        coordinate=profile.coordinate, value=profile.value, used=profile.used, source=profile.source
    )
    return cast(_draw.Reference, plain)


def render_field_panels(
    path: Path,
    xs: FloatArray,
    ys: FloatArray,
    velocity: FloatArray,
    pressure: FloatArray,
    *,
    title: str,
    velocity_scale: float,
    length_scale: float,
) -> None:
    """Velocity magnitude with streamlines beside the kinematic pressure, on a rectilinear grid."""
    options = {"title": title, "velocity_scale": velocity_scale, "length_scale": length_scale}
    draw(_draw.field_panels, path, xs, ys, velocity, pressure, **options)


def render_profile_comparison(
    path: Path,
    panels: list[tuple[str, FloatArray, FloatArray, ReferenceProfile, str, str]],
    *,
    title: str,
) -> None:
    """Each panel: (label, coordinate, simulated value, reference, coordinate name, value name)."""
    plain = [(label, x, y, _reference(reference), xn, yn) for label, x, y, reference, xn, yn in panels]
    draw(_draw.profile_comparison, path, plain, title=title)


def render_residuals(path: Path, log: SolverLog, *, title: str) -> None:
    """The initial residual of every solved field against time, on a log scale."""
    history = cast(_draw.ResidualHistory, SimpleNamespace(residuals=log.residuals, times=log.times))
    draw(_draw.residuals, path, history, title=title)


def grid_triangles(ny: int, nx: int) -> Any:
    """Two triangles per quad of an i-fastest structured block: exact connectivity, no spurious spans."""
    index = np.arange(ny * nx).reshape(ny, nx)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    c, d = index[1:, 1:].ravel(), index[1:, :-1].ravel()
    return np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])


def render_field_panels_tri(
    path: Path,
    x: FloatArray,
    y: FloatArray,
    velocity: FloatArray,
    pressure: FloatArray,
    *,
    title: str,
    velocity_scale: float,
    length_scale: float,
    triangles: Any = None,
    solid: Any = None,
) -> None:
    """Velocity magnitude with streamlines, and pressure, on any 2-D mesh (see `_draw.field_panels_tri`)."""
    options: dict[str, Any] = {
        "title": title,
        "velocity_scale": velocity_scale,
        "length_scale": length_scale,
        "triangles": triangles,
    }
    if solid is not None:  # a geometry's predicate may be a closure, which cannot travel to a renderer
        _draw.field_panels_tri(path, x, y, velocity, pressure, solid=solid, **options)
        return
    draw(_draw.field_panels_tri, path, x, y, velocity, pressure, **options)


def render_solution_panels(
    path: Path,
    x: FloatArray,
    y: FloatArray,
    panels: list[tuple[str, FloatArray, bool]],
    *,
    title: str,
    velocity_scale: float,
    axis_names: tuple[str, str],
) -> None:
    """A user's case's solution fields on its plane (see `_draw.solution_panels_tri`)."""
    options: dict[str, Any] = {"title": title, "velocity_scale": velocity_scale, "axis_names": axis_names}
    draw(_draw.solution_panels_tri, path, x, y, panels, **options)


def render_curves(
    path: Path,
    panels: list[tuple[str, list[tuple[FloatArray, FloatArray, str, str]], str, str]],
    *,
    title: str,
) -> None:
    """Panels of (label, [(x, y, style, legend)...], x name, y name): simulated lines against reference points."""
    draw(_draw.curves, path, panels, title=title)
