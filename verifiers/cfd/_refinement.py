"""Whether a refined re-run refined every region of a user's mesh, not only enough cells somewhere.

A total cell count can be met by refining part of a mesh: a case whose flow region is meshed by a block
labgate cannot scale (read through a macro) and that carries a disconnected block it can, had only the
extra block refined, 1.6x the cells on the whole, and the gate read the unchanged answer as mesh
independence. So the two runs' own cell centres and volumes (OpenFOAM's `C` and `V`, written with every
result of a user case) are compared where each original cell was: the refined cell nearest its centre
must be smaller by a clear margin. Uniform refinement by `factor` shrinks cells by `factor` (one direction
refined) to `factor`^3; a cell at most `1/sqrt(factor)` of its volume counts as refined, which leaves room
for rounded block counts (measured: at most 0.70 of the volume at 1.5x, against the bound 0.82) and keeps
an unrefined cell (1.0) out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.cfd import FieldFormatError, latest_time, read_internal_field

UNREFINED_LIMIT = 0.01
"""The largest share of the original mesh (by cells, and by volume) that may be left unrefined."""


@dataclass(frozen=True)
class Refinement:
    """The share of the original mesh whose cells are no smaller on the refined one: of the connected region
    where that share is largest, when the mesh has several (`region_cells` of `regions`)."""

    cells: float
    volume: float
    regions: int = 1
    region_cells: int = 0

    @property
    def worst(self) -> float:
        return max(self.cells, self.volume)


def centres_and_volumes(case: Path, which: str, cells: int) -> tuple[np.ndarray, np.ndarray] | str:
    """The cell centres and volumes of the latest result of `case` (the `which` run), or why they cannot
    be read: both are checked, as a refused reading must refuse the run, not pass it."""
    latest = latest_time(case)
    if latest is None:
        return f"the {which} run wrote no result"
    try:
        centres = read_internal_field(latest[1] / "C", within=case, expected=cells)
        volumes = read_internal_field(latest[1] / "V", within=case, expected=len(centres))
    except FieldFormatError as error:
        return f"the {which} run's cell centres and volumes (C, V) cannot be read: {error}"
    if centres.ndim != 2 or centres.shape[1] != 3 or volumes.ndim != 1:
        return f"the {which} run's cell centres and volumes (C, V) are not a vector and a scalar field"
    if not (np.isfinite(centres).all() and np.isfinite(volumes).all()) or (volumes <= 0).any():
        return f"the {which} run's cell volumes (V) are not all positive finite numbers"
    return centres, volumes


def both_centres_and_volumes(
    original: Path, refined: Path, cells: tuple[int, int]
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | str:
    """`centres_and_volumes` of the original run, then of the refined one; or the first reason either fails."""
    before = centres_and_volumes(original, "original", cells[0])
    if isinstance(before, str):
        return before
    after = centres_and_volumes(refined, "refined", cells[1])
    return after if isinstance(after, str) else (before, after)


def measure_refinement(
    original: Path, refined: Path, factor: float, cells: tuple[int, int], *, labels: np.ndarray | None = None
) -> Refinement | str:
    """How much of `original`'s mesh is left unrefined in `refined` (see the module's docstring); or why
    that cannot be told, a reason to refuse the refined run. `cells`: the two meshes' cell counts.

    `labels`: the connected region of each original cell. Each region is then measured on its own, as the
    field comparison judges each on its own: a small region left whole beside a large refined one stayed
    under the limit of the mesh as a whole (36 cells of a cavity beside a 4,900-cell box, 0.7 %)."""
    from scipy.spatial import cKDTree

    both = both_centres_and_volumes(original, refined, cells)
    if isinstance(both, str):
        return both
    (centres, volumes), (fine_centres, fine_volumes) = both
    _, nearest = cKDTree(fine_centres).query(centres)
    unrefined = fine_volumes[nearest] / volumes > 1.0 / math.sqrt(factor)
    if labels is None or len(labels) != len(volumes):
        labels = np.zeros(len(volumes), dtype=np.int64)
    per_region = np.bincount(labels)
    cell_share = np.bincount(labels, weights=unrefined) / np.maximum(per_region, 1)
    volume_share = np.bincount(labels, weights=volumes * unrefined) / np.maximum(
        np.bincount(labels, weights=volumes), np.finfo(float).tiny
    )
    occupied = np.flatnonzero(per_region)
    worst = int(occupied[np.argmax(np.maximum(cell_share, volume_share)[occupied])])
    return Refinement(
        cells=float(cell_share[worst]),
        volume=float(volume_share[worst]),
        regions=len(occupied),
        region_cells=int(per_region[worst]),
    )


def unrefined_problem(found: Refinement, factor: float) -> str | None:
    """Why the refined run does not refine the whole mesh, or None when it does."""
    if found.worst <= UNREFINED_LIMIT:
        return None
    if found.regions <= 1:
        share = f"{100 * found.cells:.1f} % of the original mesh's cells ({100 * found.volume:.1f} % of its volume)"
    else:
        share = (
            f"{100 * found.cells:.1f} % of the cells of one of the original mesh's {found.regions} unconnected "
            f"regions ({found.region_cells} cells; {100 * found.volume:.1f} % of its volume)"
        )
    return (
        f"{share} are no smaller on the {factor:g}x finer mesh: that region was not refined, so the comparison "
        "says nothing about mesh independence there"
    )
