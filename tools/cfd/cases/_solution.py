"""Which fields of a result are its solution: the vector and the scalar the figures and gates read.

Every catalog family solves a velocity `U` and a pressure `p`. A user's own case need not:
scalarTransportFoam solves a temperature `T` in a given `U`, laplacianFoam `T` alone,
solidDisplacementFoam a displacement `D`, shallowWaterFoam a depth `h`, electrostaticFoam a
potential `phi`, the Euler multiphase solvers one velocity per phase (`U.air`), boundaryFoam has no
`p`. Reading `U` and `p` regardless failed those cases with "U does not exist" whatever the solver
did. The choice here is made from what the solver wrote and what its log says it solved, and it
fails closed: a velocity the case has (or the solver solved) is always the one read, so a missing or
broken `U` is never traded for another field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

VELOCITY = "U"
PRESSURES = ("p", "p_rgh")
_PHASE_VELOCITY = re.compile(r"U\.[A-Za-z][A-Za-z0-9_]{0,40}")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,60}")
_COMPONENTS = ("x", "y", "z")


def is_velocity(name: str) -> bool:
    """Whether a field name is a velocity: `U`, or a phase's `U.<phase>` (the Euler multiphase solvers)."""
    return name == VELOCITY or _PHASE_VELOCITY.fullmatch(name) is not None


@dataclass(frozen=True)
class SolutionFields:
    """The result's vector field (a velocity where the case has one) and its scalar field; at least one."""

    vector: str | None
    scalar: str | None
    given: tuple[str, ...] = ()
    """Those of the two the log never solved for: inputs the solver carried (scalarTransportFoam's `U`), which
    are read and checked but may be uniform."""

    @property
    def velocity(self) -> str | None:
        """The vector field when it is a velocity (`U` or a phase's `U.<phase>`), else None."""
        vector = self.vector
        return vector if vector is not None and is_velocity(vector) else None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name in (self.vector, self.scalar) if name is not None)

    def describe(self) -> str:
        return " and ".join(self.names) or "no field"


CATALOG_FIELDS = SolutionFields(VELOCITY, "p")
"""What every catalog family solves."""


def _written(folder: Path) -> set[str]:
    """Names of the plain files in a time folder (a link or a folder is no field of this result)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return set()
    return {
        entry.name
        for entry in entries
        if _FIELD_NAME.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink()
    }


def _solved(names: Iterable[str], written: set[str]) -> tuple[list[str], list[str]]:
    """The vectors and the scalars a log solved (residual names), in the log's order: a name ending in a
    component letter whose stem the solver wrote is that vector's component (`Dx` is `D`, `U.airy` is `U.air`)."""
    vectors: list[str] = []
    scalars: list[str] = []
    for name in names:
        stem = name[:-1]
        if name[-1:] in _COMPONENTS and stem and (stem in written or is_velocity(stem)):
            if stem not in vectors:
                vectors.append(stem)
        elif name not in scalars:
            scalars.append(name)
    return vectors, scalars


def detect_solution_fields(folder: Path, solved: Iterable[str]) -> SolutionFields | None:
    """The solution fields of the result in time folder `folder`, given the names the log solved for.

    The vector: `U` where the solver solved it or wrote it (read even when missing, so the gates say so),
    else the first phase velocity written (`U.air`), else the first vector the log solved. The scalar:
    the pressure the log solved for (`p`, else `p_rgh`), else the one written, else the first scalar the log
    solved that was written.
    None when nothing qualifies.
    """
    written = _written(folder)
    vectors, scalars = _solved(solved, written)
    vector: str | None
    if VELOCITY in written or VELOCITY in vectors or VELOCITY in scalars:
        vector = VELOCITY
    else:
        phases = sorted(name for name in written if name != VELOCITY and is_velocity(name))
        vector = phases[0] if phases else next((name for name in vectors if name in written), None)
    scalar = next((name for name in PRESSURES if name in scalars), None)  # the pressure it solved for
    if scalar is None:
        scalar = next((name for name in PRESSURES if name in written), None)
    if scalar is None:
        scalar = next((name for name in scalars if name in written and name not in PRESSURES), None)
    if vector is None and scalar is None:
        return None
    # A solver that solves for a pressure corrects the velocity with it every step, whether or not it also
    # solves a momentum predictor (`momentumPredictor no` writes no 'Solving for Ux' line): that velocity is
    # the solution's, never a field the case was only given (it was, and the mesh gate then compared p alone).
    pressure_solved = any(name in scalars for name in PRESSURES)
    given = tuple(
        name
        for name in (vector, scalar)
        if name is not None and name not in vectors + scalars and not (pressure_solved and is_velocity(name))
    )
    return SolutionFields(vector, scalar, given)
