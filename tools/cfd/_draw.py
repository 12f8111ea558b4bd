"""Drawing the figures of a CFD result: numpy and matplotlib only.

This module is what a renderer process (`tools.cfd._renderer`) loads, on its own and not as part
of the `tools` package, so a renderer starts in the time matplotlib takes to import. It therefore
imports nothing of labgate at run time, and its arguments are arrays, builtins and
`types.SimpleNamespace` objects shaped like the protocols below. `tools.cfd._render` is the typed
front the case families call.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if __package__:
    from . import _streamlines
else:  # a renderer loads this module alone, beside its siblings (see the module's docstring)
    import _streamlines  # type: ignore[import-not-found, no-redef]

if TYPE_CHECKING:
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]

_import_lock = threading.Lock()


class Reference(Protocol):
    """A tabulated reference profile (`ReferenceProfile` has this shape)."""

    @property
    def coordinate(self) -> FloatArray: ...
    @property
    def value(self) -> FloatArray: ...
    @property
    def used(self) -> NDArray[np.bool_]: ...
    @property
    def source(self) -> str: ...


class ResidualHistory(Protocol):
    """What a residual figure reads of a solver log (`SolverLog` has this shape)."""

    @property
    def residuals(self) -> dict[str, list[tuple[float, float]]]: ...
    @property
    def times(self) -> list[float]: ...


def pyplot() -> Any:
    """matplotlib, imported on first use: it costs a third of a second that most commands never need."""
    with _import_lock:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

    return plt


def field_panels(
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
    plt = pyplot()
    speed = np.linalg.norm(velocity[..., :2], axis=-1) / velocity_scale
    x, y = xs / length_scale, ys / length_scale
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    _margins(fig, right=0.55, wspace=0.3)
    filled = axes[0].contourf(x, y, speed, levels=40, cmap="viridis")
    fig.colorbar(filled, ax=axes[0], label="|U| / U_ref")
    if np.all(np.isfinite(velocity)) and np.any(speed > 0):
        streamlines(axes[0], x, y, velocity[..., 0], velocity[..., 1], density=1.1, linewidth=0.6, arrowsize=0.6)
    axes[0].set_title("velocity magnitude and streamlines")
    low, high, levels = _pressure_levels(pressure)
    filled_p = axes[1].contourf(x, y, np.clip(pressure, low, high), levels=levels, cmap="RdBu_r")
    _finish_panels(fig, axes, filled_p, title, path)


def profile_comparison(
    path: Path,
    panels: list[tuple[str, FloatArray, FloatArray, Reference, str, str]],
    *,
    title: str,
) -> None:
    """Each panel: (label, coordinate, simulated value, reference, coordinate name, value name)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.8))
    _margins(fig, left=0.95, top=0.8, wspace=0.3)
    for axis, (label, coordinate, value, reference, coord_name, value_name) in zip(
        np.atleast_1d(axes), panels, strict=True
    ):
        vertical = coord_name.startswith("y")
        sim_xy = (value, coordinate) if vertical else (coordinate, value)
        axis.plot(*sim_xy, "-", color="#1f4e9c", label=f"labgate: {label}")
        used, unused = reference.used, ~reference.used
        ref_xy = (reference.value, reference.coordinate) if vertical else (reference.coordinate, reference.value)
        axis.plot(ref_xy[0][used], ref_xy[1][used], "o", color="#c0392b", label="reference (scored)")
        if unused.any():
            axis.plot(ref_xy[0][unused], ref_xy[1][unused], "x", color="#7f8c8d", label="reference (not scored)")
        axis.set_xlabel(value_name if vertical else coord_name)
        axis.set_ylabel(coord_name if vertical else value_name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle(f"{title}\nreference: {panels[0][3].source}", fontsize=9)
    _save(fig, path)


def residuals(path: Path, log: ResidualHistory, *, title: str) -> None:
    """The initial residual of every solved field against time, on a log scale."""
    plt = pyplot()
    fig, axis = plt.subplots(figsize=(7, 4.2))
    _margins(fig, left=0.95, top=0.4)
    plotted = False
    for name, history in sorted(log.residuals.items()):
        if not history:
            continue
        times, values = zip(*history, strict=True)
        values_array = np.asarray(values, dtype=np.float64)
        positive = np.where(values_array > 0, values_array, np.nan)
        axis.semilogy(times, positive, label=name, linewidth=0.9)
        plotted = True
    axis.set_xlabel("time (s)" if log.times else "iteration")
    axis.set_ylabel("initial residual")
    axis.set_title(title)
    axis.grid(alpha=0.3, which="both")
    if plotted:
        axis.legend()
    _save(fig, path)


MAX_FIGURE_INCHES = 14.0
"""The tallest field figure drawn, whatever the geometry's aspect ratio."""


def field_panels_tri(
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
    """Velocity magnitude with streamlines, and pressure, on any 2-D mesh (cell centres triangulated).

    `triangles` gives exact connectivity for structured blocks; otherwise a Delaunay triangulation is
    used and triangles whose centroid lies in `solid(x, y)` (the geometry's walls) are masked out.
    """
    plt = pyplot()
    import matplotlib.tri as mtri

    xs, ys = x / length_scale, y / length_scale
    tri = mtri.Triangulation(xs, ys, triangles)
    if solid is not None:
        cx, cy = xs[tri.triangles].mean(axis=1), ys[tri.triangles].mean(axis=1)
        tri.set_mask(solid(cx * length_scale, cy * length_scale))
    speed = np.linalg.norm(velocity[:, :2], axis=1) / velocity_scale
    span = (float(np.ptp(xs)), float(np.ptp(ys)))
    aspect = span[1] / span[0] if span[0] > 0 else 1.0
    # Constrained layout here: the panels' shape follows the geometry, and these cases' solvers take minutes.
    # A tall geometry (a heated cavity 29 times taller than wide) puts its panels side by side; either way
    # the figure stays a readable size (stacked, it was 300 inches tall: no image reader would open it).
    if aspect > 1.0:
        height = min(MAX_FIGURE_INCHES, max(5.0, 5.2 * aspect + 1.5))
        fig, axes = plt.subplots(1, 2, figsize=(11, height), constrained_layout=True)
    else:
        height = min(MAX_FIGURE_INCHES, max(4.0, 2 * 5.2 * aspect + 1.5))
        fig, axes = plt.subplots(2, 1, figsize=(11, height), constrained_layout=True)
    finite = np.isfinite(speed)
    filled = axes[0].tricontourf(tri, np.where(finite, speed, 0.0), levels=40, cmap="viridis")
    fig.colorbar(filled, ax=axes[0], label="|U| / U_ref")
    if finite.all() and np.any(speed > 0):
        _tri_streamlines(axes[0], tri, velocity, aspect)
    axes[0].set_title("velocity magnitude and streamlines")
    low, high, levels = _pressure_levels(pressure)
    filled_p = axes[1].tricontourf(tri, np.clip(np.nan_to_num(pressure), low, high), levels=levels, cmap="RdBu_r")
    _finish_panels(fig, axes, filled_p, title, path)


def _tri_streamlines(axis: Any, tri: Any, velocity: FloatArray, aspect: float) -> None:
    """White streamlines of the in-plane velocity over `tri`'s points, on a grid of the plane's aspect."""
    import matplotlib.tri as mtri

    gx = np.linspace(tri.x.min(), tri.x.max(), 160)
    gy = np.linspace(tri.y.min(), tri.y.max(), min(640, max(20, int(160 * aspect))))
    mesh_x, mesh_y = np.meshgrid(gx, gy)
    # Outside the triangulation (a solid, beyond the mesh) the interpolators mask: no flow there.
    ux = np.ma.filled(mtri.LinearTriInterpolator(tri, velocity[:, 0])(mesh_x, mesh_y), np.nan)
    uy = np.ma.filled(mtri.LinearTriInterpolator(tri, velocity[:, 1])(mesh_x, mesh_y), np.nan)
    streamlines(axis, gx, gy, ux, uy, density=1.2, linewidth=0.5, arrowsize=0.5)


def streamlines(
    axis: Any,
    xs: FloatArray,
    ys: FloatArray,
    u: FloatArray,
    v: FloatArray,
    *,
    density: float,
    linewidth: float,
    arrowsize: float,
) -> None:
    """White streamlines with an arrow half-way along each (`_streamlines`; matplotlib's own `streamplot`
    cost as much CPU as a small case's solver)."""
    from matplotlib.collections import LineCollection

    lines = _streamlines.trace(xs, ys, u, v, density=density)
    if not lines:
        return
    axis.add_collection(
        LineCollection([line.points for line in lines], colors="white", linewidths=linewidth), autolim=False
    )
    # One arrow head half-way along each line, sized in inches as streamplot's were (a quiver whose
    # arrows are no longer than their heads), whatever the plane's extent.
    at = np.array([line.arrow_at for line in lines])
    direction = np.array([line.arrow_direction for line in lines])
    length = 0.1 * arrowsize
    axis.quiver(
        at[:, 0],
        at[:, 1],
        direction[:, 0],
        direction[:, 1],
        color="white",
        angles="xy",
        pivot="middle",
        units="inches",
        scale_units="inches",
        scale=1 / length,
        width=length / 4.5,
        headwidth=3.0,
        headlength=4.5,
        headaxislength=4.5,
    )


def on_a_line(x: FloatArray, y: FloatArray) -> bool:
    """Whether cell centres lie on a line (a 1-D case), which no triangulation takes."""
    span = (float(np.ptp(x)), float(np.ptp(y))) if len(x) else (0.0, 0.0)
    return len(x) < 3 or min(span) <= 1e-9 * max(*span, 1e-300)


def solution_panels_tri(
    path: Path,
    x: FloatArray,
    y: FloatArray,
    panels: list[tuple[str, FloatArray, bool]],
    *,
    title: str,
    velocity_scale: float,
    axis_names: tuple[str, str],
) -> None:
    """One panel per solution field of a user's case, on its own plane (cell centres triangulated):
    (name, values, is_velocity). A vector is drawn as its magnitude, with streamlines when it is a
    velocity (scaled by `velocity_scale`); a scalar between its 1st and 99th percentiles."""
    plt = pyplot()
    import matplotlib.tri as mtri

    span = (float(np.ptp(x)), float(np.ptp(y)))
    if on_a_line(x, y):  # a 1-D case: profiles
        along = 0 if span[0] >= span[1] else 1
        coordinate = x if along == 0 else y
        axis = axis_names[along]
        _solution_profiles(plt, path, coordinate, panels, title=title, velocity_scale=velocity_scale, axis=axis)
        return
    tri = mtri.Triangulation(x, y)
    aspect = span[1] / span[0] if span[0] > 0 else 1.0
    count = len(panels)
    if aspect > 1.0 and count > 1:
        height = min(MAX_FIGURE_INCHES, max(5.0, 5.2 * aspect + 1.5))
        fig, axes = plt.subplots(1, count, figsize=(11, height), constrained_layout=True, squeeze=False)
    else:
        height = min(MAX_FIGURE_INCHES, max(4.0, count * 5.2 * min(aspect, 2.0) + 1.5))
        fig, axes = plt.subplots(count, 1, figsize=(11, height), constrained_layout=True, squeeze=False)
    for axis, (name, values, velocity) in zip(axes.ravel(), panels, strict=True):
        if values.ndim == 2:
            shown = np.linalg.norm(values, axis=1) / (velocity_scale if velocity else 1.0)
            label = f"|{name}| / U_ref" if velocity else f"|{name}|"
        else:
            shown, label = values, name
        low, high, levels = _pressure_levels(shown)
        filled = axis.tricontourf(tri, np.clip(np.nan_to_num(shown), low, high), levels=levels, cmap="viridis")
        fig.colorbar(filled, ax=axis, label=label)
        if velocity and values.ndim == 2 and np.all(np.isfinite(values)) and np.any(shown > 0):
            _tri_streamlines(axis, tri, values, aspect)
        axis.set_title(f"{name} ({'magnitude' if values.ndim == 2 else 'scalar'})")
        axis.set_aspect("equal")
        axis.set_xlabel(f"{axis_names[0]} (m)")
        axis.set_ylabel(f"{axis_names[1]} (m)")
    fig.suptitle(title)
    _save(fig, path)


def _solution_profiles(
    plt: Any,
    path: Path,
    x: FloatArray,
    panels: list[tuple[str, FloatArray, bool]],
    *,
    title: str,
    velocity_scale: float,
    axis: str,
) -> None:
    """The solution fields of a case whose cells lie on a line, against the coordinate along it."""
    order = np.argsort(x, kind="stable")
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.6 * len(panels)), constrained_layout=True, squeeze=False)
    for chart, (name, values, velocity) in zip(axes.ravel(), panels, strict=True):
        if values.ndim == 2:
            for component in range(min(values.shape[1], 3)):
                scale = velocity_scale if velocity else 1.0
                chart.plot(x[order], values[order, component] / scale, label=f"{name}{'xyz'[component]}")
            chart.legend(fontsize=8)
        else:
            chart.plot(x[order], values[order], label=name)
        chart.set_title(name if values.ndim == 1 else f"{name} components" + (" / U_ref" if velocity else ""))
        chart.set_xlabel(f"{axis} (m)")
        chart.grid(alpha=0.3)
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def curves(
    path: Path,
    panels: list[tuple[str, list[tuple[FloatArray, FloatArray, str, str]], str, str]],
    *,
    title: str,
) -> None:
    """Panels of (label, [(x, y, style, legend)...], x name, y name): simulated lines against reference points."""
    plt = pyplot()
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.6 * len(panels)), constrained_layout=True)
    for axis, (label, series, x_name, y_name) in zip(np.atleast_1d(axes), panels, strict=True):
        for xs, ys, style, legend in series:
            axis.plot(xs, ys, style, label=legend, markersize=3, linewidth=1.0)
        axis.set_title(label)
        axis.set_xlabel(x_name)
        axis.set_ylabel(y_name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def _pressure_levels(pressure: FloatArray) -> tuple[float, float, Any]:
    """The pressure panel's colour range and levels: corner singularities (the cavity's lid edges)
    would otherwise take the whole range."""
    low, high = np.nanpercentile(pressure, [1, 99]) if np.isfinite(pressure).any() else (0.0, 1.0)
    return low, high, np.linspace(low, high, 41) if high > low else 40


def _finish_panels(fig: Any, axes: Any, filled_p: Any, title: str, path: Path) -> None:
    """The pressure colour bar, the shared axes, the title; then the PNG written and the figure closed."""
    fig.colorbar(filled_p, ax=axes[1], label="p (kinematic, m²/s²)")
    axes[1].set_title("pressure")
    for axis in axes:
        axis.set_aspect("equal")
        axis.set_xlabel("x / L")
        axis.set_ylabel("y / L")
    fig.suptitle(title)
    _save(fig, path)


def _margins(
    fig: Any,
    *,
    left: float = 0.7,
    right: float = 0.3,
    bottom: float = 0.55,
    top: float = 0.7,
    wspace: float | None = None,
    hspace: float | None = None,
) -> None:
    """Fixed margins in inches, for figures whose layout is known in advance (normalised coordinates,
    tick labels of at most about eight characters, which matplotlib's formatter keeps to by switching
    to an offset or scientific notation).

    matplotlib's constrained layout measured every tick label of every axis at each save: about a
    third of a figure's CPU, which on a small case is as much as the solver's time again.
    """
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=wspace,
        hspace=hspace,
    )


def _save(fig: Any, path: Path) -> None:
    """The PNG written with light compression (zlib level 1: a few percent larger, several times faster
    to write than the default level), then the figure closed."""
    fig.savefig(path, dpi=110, pil_kwargs={"compress_level": 1})
    pyplot().close(fig)
