"""The implicit under-relaxation factor each equation of a case is solved with (`relaxationFactors`).

OpenFOAM normalises an equation's initial residual by the size of its matrix and source; relaxing the
equation by a factor a divides the matrix's diagonal by a, and the normalised residual of the state it
starts from shrinks about a-fold while the unrelaxed imbalance stays what it was. A steady pitzDaily run
with its equations relaxed by 1e-2 and 1e-6 logged residuals below 1e-5 and was judged converged while
its velocity was 62 % RMS from the converged solution (restarted with the stock factors its residuals read
about 0.1). The solver-log gate reads these factors to judge residuals as the unrelaxed equation's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.cfd.openfoam._foamread import (
    FoamParseError,
    UnreadPatternError,
    foam_number,
    foam_pattern,
    read_foam_dict,
)

_PATTERN = re.compile(r"[.*+?()|\[\]^$\\]")
"""A key holding any of these is a regular expression (OpenFOAM's quoted keys), matched whole."""
_COMPONENT = re.compile(r"^([\w.:]+?)(x|y|z|xx|xy|xz|yy|yz|zz)$")
"""A logged component (`Ux`, `U.airx`, `Rxy`) and the equation it is solved in."""


def _entry(entries: dict[str, Any], name: str, fv_solution: Path) -> Any:
    """`entries[name]` as OpenFOAM finds it: the key itself, else the last pattern key written that matches
    the name whole. `relaxationFactors { "equation." { ... } }` and a quoted `"relaxationFactor.*"` both
    relax the solver, and read by their exact names only, factors of 1e-6 were taken as absent (1).

    Raises:
        FoamParseError: a pattern key labgate does not evaluate.
    """
    if name in entries:
        return entries[name]
    found = None
    for key, value in entries.items():
        if key.startswith("#") or not _PATTERN.search(key):
            continue
        try:
            if foam_pattern(key).fullmatch(name):
                found = value
        except UnreadPatternError as error:
            raise FoamParseError(f"{fv_solution}: {error}") from None
    return found


def equation_relaxation(fv_solution: Path, *, within: Path | None = None) -> Callable[[str], float]:
    """A lookup from a logged residual's field (`Ux`, `p`, `epsilon`) to its equation's relaxation factor, 1
    where none applies.

    As OpenFOAM looks a factor up: the equation's own name, else the last pattern written that matches it
    (`foam_pattern`, POSIX classes read), else `default`. `default` was ignored, POSIX classes (`"[[:upper:]]"`)
    never matched and a second `equations { }` replaced the first (OpenFOAM merges them), so factors of 1e-2
    and 1e-6 written those ways were read as 1 and a stalled pitzDaily, 62 % RMS from its converged velocity,
    was accepted.

    Raises:
        FoamParseError: the file cannot be read, a factor is not a number, or the factors use a directive
            (`#include`, `#remove`...) or a pattern labgate does not evaluate: residuals are then judged by
            their drop alone.
    """
    solution = read_foam_dict(fv_solution, within=within)
    if solution.get("#directives"):
        # An `#include` at the top may bring the factors in (a top-level one relaxed pitzDaily by 1e-6 unread).
        first = str(solution["#directives"][0]).split()[0]
        raise FoamParseError(f"{fv_solution}: uses {first} at its top level, not read here")
    factors = _entry(solution, "relaxationFactors", fv_solution)
    if factors is None:
        return lambda field: 1.0
    if not isinstance(factors, dict):
        raise FoamParseError(f"{fv_solution}: relaxationFactors is not a dictionary")
    equations = _entry(factors, "equations", fv_solution)
    if isinstance(equations, dict):
        entries = equations
    else:  # the old flat form: its entries relax fields and equations alike
        entries = {key: value for key, value in factors.items() if not isinstance(value, dict)}
    directives = [*factors.get("#directives", []), *entries.get("#directives", [])]
    if directives:
        raise FoamParseError(f"{fv_solution}: relaxationFactors uses {directives[0].split()[0]}, not read here")
    exact: dict[str, float] = {}
    patterns: list[tuple[re.Pattern[str], float]] = []
    default = 1.0
    for key, value in entries.items():
        factor = foam_number(value)
        if not math.isfinite(factor) or factor <= 0:
            raise FoamParseError(f"{fv_solution}: relaxation factor {key} is {value!r}, not a positive number")
        factor = min(factor, 1.0)
        if key == "default":
            default = factor
        elif _PATTERN.search(str(key)):
            try:
                patterns.append((foam_pattern(str(key)), factor))
            except UnreadPatternError as error:
                raise FoamParseError(f"{fv_solution}: {error}") from None
        exact[str(key)] = factor  # a pattern's own spelling is an exact key too

    def factor_of(field: str) -> float:
        component = _COMPONENT.match(field)
        # Ux is a component of U's equation, relaxed as U; a scalar keeps its own name.
        names = [component.group(1), field] if component is not None else [field]
        for name in names:
            if name in exact and not _PATTERN.search(name):
                return exact[name]
        for name in names:
            # As OpenFOAM matches patterns: the last one written that matches wins, then `default`.
            for pattern, factor in reversed(patterns):
                if pattern.fullmatch(name):
                    # A name such as `alpha.water` is also its own key: written plainly OpenFOAM takes that
                    # entry before any pattern, written in quotes it is a pattern among the others. The reader
                    # drops the quotes, so the smaller of the two readings is taken: a residual is then judged
                    # no more leniently than the solver relaxed it.
                    return min(factor, exact[name]) if name in exact else factor
        return default

    return factor_of
