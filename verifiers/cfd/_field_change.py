"""How far a user case's solution field moved on the finer mesh, cell by cell, not only in one integral.

Without a quantity the user names, the mesh gate's monitor is one volume average; in a channel with a
fixed inflow continuity pins the mean speed, so a coarse pitzDaily whose backflow moved 15 % between the
meshes kept its mean speed within 0.4 %. So the field itself is compared too: each original cell's value
against the refined field at the same centre (a linear fit to the refined cells around it), summed as a
volume-weighted RMS and divided by the original field's own RMS. A vector field is compared as a vector;
a scalar above its minimum on the original mesh, as the monitor reads it (a temperature in kelvin would
hide any change in its distribution).

Each connected region of the mesh (cells joined through internal faces) is judged on its own, by its own
RMS, and the worst region counts: a 6x6 cavity that moved 9.5 % read 0.48 % beside a disconnected block of
uniform flow 100 times its size. A converged region joined to an unconverged one still dilutes it (a global
measure); a reference quantity, or the user's own tolerance, is the answer there.

Measured with labgate's own refinement (1.5x blocks, or one refineMesh pass): the stock airFoil2D moves
0.28 %, pitzDaily 2.2 %, the 20x20 cavity 2.7 %, the coarse pitzDaily above 10.9 %.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.cfd import FieldFormatError, latest_time, read_internal_field
from verifiers.cfd._faces import MeshMismatchError, internal_faces
from verifiers.cfd._refinement import both_centres_and_volumes


@dataclass(frozen=True)
class FieldChange:
    """The relative RMS change of a field, and where the original cell that changed most lies."""

    field: str
    change: float
    """The largest of the regions' RMS changes, each over the region's own RMS."""
    worst: float
    """The largest single cell's change in that region, relative to the same RMS."""
    where: tuple[float, float, float]
    regions: int = 1
    cells: int = 0
    """The cells of the region that changed most."""


def _field(case: Path, which: str, name: str, cells: int) -> np.ndarray | str:
    latest = latest_time(case)
    if latest is None:
        return f"the {which} run wrote no result"
    try:
        values = read_internal_field(latest[1] / name, n_cells=cells, within=case, expected=cells)
    except FieldFormatError as error:
        return f"the {which} run's {name} cannot be read: {error}"
    if not np.isfinite(values).all():
        return f"the {which} run's {name} is not finite everywhere"
    return np.atleast_2d(values.T).T if values.ndim == 1 else values


RIDGE = 1e-3
"""Added to the fit's gradient terms, with offsets scaled to the unit ball: negligible where the neighbours
spread, the gradient's bound where they do not."""
NEIGHBOURS = {1: 3, 2: 7, 3: 11}
"""Refined cells a linear fit at a coarse centre uses, per dimension the mesh spans: a few more than the
fit's unknowns, so the cells surround the centre and a fit is not at the mercy of one cell."""


COINCIDENT = 1e-6
"""A fine centre this close to a coarse one (relative to the fit's neighbourhood) stands on it."""
CHUNK = 65536
"""Coarse centres fitted at once: the fit's arrays grow with the centres times the neighbours, so a mesh of
millions of cells is fitted in pieces of bounded memory (about 40 MB each for a vector in 3-D)."""


def interpolated(centres: np.ndarray, fine_centres: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """The fine field at each coarse centre by a weighted least-squares linear fit to the nearest fine
    cells: exact for a linear field whatever the two meshes' cells (an average of the fine cells nearest a
    coarse centre is off by the gradient times the offset of their mean position, as large as the change
    sought when the meshes do not nest), second order for a smooth one. Only the directions the mesh spans
    count (a 2-D case's third is one cell)."""
    from scipy.spatial import cKDTree

    spread = np.ptp(fine_centres, axis=0)
    axes = [k for k in range(3) if spread[k] > 1e-9 * max(float(spread.max()), 1e-300)]
    points, targets = fine_centres[:, axes], centres[:, axes]
    count = min(NEIGHBOURS.get(len(axes), 11), len(points))
    tree = cKDTree(points)
    pieces = []
    for start in range(0, len(targets), CHUNK):
        distance, nearest = tree.query(targets[start : start + CHUNK], k=count)
        distance, nearest = np.atleast_2d(distance.T).T, np.atleast_2d(nearest.T).T
        if not axes or count <= len(axes):
            pieces.append(np.asarray(fine[nearest[:, 0]], dtype=np.float64))
        else:
            fitted = _fit(points[nearest] - targets[start : start + CHUNK, None, :], distance, fine[nearest])
            # A fine centre on the coarse one (the same mesh run again, an odd refinement) is the value there.
            on = distance[:, 0] <= COINCIDENT * np.maximum(distance[:, -1], 1e-300)
            fitted[on] = fine[nearest[on, 0]]
            pieces.append(fitted)
    return np.concatenate(pieces) if pieces else np.empty((0, fine.shape[1]))


def _fit(offsets: np.ndarray, distance: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The value at offset 0 of a weighted linear fit to `values` (n, k, components) at `offsets` (n, k, d)."""
    scale = np.maximum(distance[:, -1:], 1e-300)
    offsets = offsets / scale[:, :, None]  # within the unit ball
    design = np.concatenate([np.ones((*offsets.shape[:2], 1)), offsets], axis=2)  # (n, k, d + 1)
    weights = 1.0 / (distance / scale + 0.1) ** 2
    normal = np.einsum("nk,nki,nkj->nij", weights, design, design)
    # Cells far flatter than wide (graded walls) can put every neighbour on nearly one line: a small ridge
    # keeps the gradient across it from growing without bound, and the fit is limited to the neighbours'
    # own range, as a limiter bounds a reconstruction (an unbounded one read 33x the RMS at a contraction).
    ridge = RIDGE * np.eye(design.shape[2])
    ridge[0, 0] = 0.0
    right = np.einsum("nk,nki,nkc->nic", weights, design, values)
    solved = np.linalg.solve(normal + ridge, right)  # (n, d + 1, components)
    return np.asarray(np.clip(solved[:, 0, :], values.min(axis=1), values.max(axis=1)), dtype=np.float64)


def field_change(original: Path, refined: Path, name: str, cells: tuple[int, int]) -> FieldChange | str:
    """The change of field `name` from `original` to `refined` (module doc), or why it cannot be told."""
    both = both_centres_and_volumes(original, refined, cells)
    if isinstance(both, str):
        return both
    coarse, fine = _field(original, "original", name, cells[0]), _field(refined, "refined", name, cells[1])
    if isinstance(coarse, str):
        return coarse
    if isinstance(fine, str):
        return fine
    if coarse.shape[1] != fine.shape[1]:
        return f"{name} has {coarse.shape[1]} components on the original mesh and {fine.shape[1]} on the refined one"
    (centres, volumes), (fine_centres, _) = both
    labels = regions(original, cells[0])
    if isinstance(labels, str):
        return labels
    averaged = interpolated(centres, fine_centres, fine)
    count = int(labels.max()) + 1 if len(labels) else 0
    parts = [labels == region for region in range(count)]
    sizes = [_size(coarse[inside], volumes[inside]) for inside in parts]
    if not max(sizes, default=0.0) > 0:
        return f"{name} is zero everywhere on the original mesh (above its minimum): its change cannot be scaled"
    # A region where the field is constant (a pressure level beside a moving region) is scaled by a
    # millionth of the largest region's: noise there is no change.
    floor = 1e-6 * max(sizes)
    changes = [
        _region_change(name, coarse[inside], averaged[inside], volumes[inside], centres[inside], max(size, floor))
        for inside, size in zip(parts, sizes, strict=True)
    ]
    return dataclasses.replace(max(changes, key=lambda found: found.change), regions=count)


def above_minimum(values: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """A scalar and what it is compared with, above the scalar's minimum; a vector as it is."""
    floor = float(values.min()) if values.shape[1] == 1 else 0.0
    return [values - floor, *(other - floor for other in others)]


def _size(values: np.ndarray, volumes: np.ndarray) -> float:
    """The volume-weighted RMS of a field (a scalar above its minimum) over some cells."""
    (values,) = above_minimum(values)
    return float(np.sqrt(np.sum(volumes * np.sum(values**2, axis=1)) / np.sum(volumes)))


def _region_change(
    name: str, coarse: np.ndarray, averaged: np.ndarray, volumes: np.ndarray, centres: np.ndarray, size: float
) -> FieldChange:
    """One region's RMS change over `size` (its own RMS, or the floor for a constant field)."""
    coarse, averaged = above_minimum(coarse, averaged)
    local = np.linalg.norm(coarse - averaged, axis=1)
    change = float(np.sqrt(np.sum(volumes * local**2) / np.sum(volumes)) / size)
    worst = int(np.argmax(local))
    where = (float(centres[worst, 0]), float(centres[worst, 1]), float(centres[worst, 2]))
    return FieldChange(field=name, change=change, worst=float(local[worst] / size), where=where, cells=len(coarse))


def regions(case: Path, cells: int) -> np.ndarray | str:
    """The connected region of each cell of the latest result's mesh (joined through internal faces), or
    why the mesh's face lists cannot be read: a mesh whose regions cannot be told is refused, not judged
    as one."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    latest = latest_time(case)
    try:
        owner, neighbour = internal_faces(case, latest[1] if latest is not None else None, cells)
    except MeshMismatchError as error:
        return f"the original mesh's face lists do not fit its {cells} cells: {error}"
    except FieldFormatError as error:
        return f"the original mesh's face lists cannot be read, so its connected regions cannot be told: {error}"
    graph = coo_matrix((np.ones(len(neighbour)), (owner, neighbour)), shape=(cells, cells))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)
