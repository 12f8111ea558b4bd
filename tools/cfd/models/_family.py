"""The model-form correction family of Spalart-Allmaras (`SAcorrected.C`) and how a case loads it.

The family multiplies SA's production, destruction and eddy viscosity by 1 + C F, F a local flow
feature chosen by an integer switch (see the C++ header comment). Coefficients and switches are read at
run time from `SAcorrectedCoeffs`, so the library is compiled once and a CMA-ES search over coefficients
and forms reuses it. A candidate may also bring its own C++ (`SACoefficients.source`, an edit of this
file): that is compiled (in the sandbox, cached by hash) in its place.
"""

from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path

MODEL_NAME = "SAcorrected"
"""The RASModel the library registers (`TypeName` in the C++): any candidate source must keep it."""
LIBRARY_DIR = "lib"

FEATURES = (
    "uniform",
    "shielding fd",
    "strain share",
    "tanh(chi/scale)",
    "1-exp(-d/(scale L))",
    "fd exp(-chi/(50 scale))",
    "(1-exp(-d/(0.1 L))) exp(-chi/(50 scale))",
    "relaminarisation (1-fd) tanh(max(0,-p+)/0.025)",
)
"""The feature F each switch value selects, by index."""


@cache
def family_source() -> str:
    """The C++ of the built-in correction family."""
    return (Path(__file__).parent / "SAcorrected.C").read_text()


def source_diff(source: str) -> str:
    """A unified diff of a candidate's C++ against the family's (empty when unchanged)."""
    lines = difflib.unified_diff(
        family_source().splitlines(keepends=True),
        source.splitlines(keepends=True),
        fromfile="SAcorrected.C (family)",
        tofile="SAcorrected.C (candidate)",
    )
    return "".join(lines)


def load_directive(file_name: str) -> str:
    """The controlDict entry that loads the case-local library (OpenFOAM expands $FOAM_CASE)."""
    return f'\nlibs ("$FOAM_CASE/{LIBRARY_DIR}/{file_name}");\n'


def describe_form(values: dict[str, float]) -> str:
    """The correction a set of family values stands for, in words (for rationales and the dashboard)."""
    terms = []
    for term, amplitude, switch in (
        ("production", "Cproduction", "productionFeature"),
        ("destruction", "Cdestruction", "destructionFeature"),
        ("eddy viscosity", "Cfv1", "fv1Feature"),
    ):
        value = float(values.get(amplitude, 0.0))
        if value != 0.0:
            feature = FEATURES[min(max(round(float(values.get(switch, 0.0))), 0), len(FEATURES) - 1)]
            terms.append(f"{term} x (1 {'+' if value >= 0 else '-'} {abs(value):.3g} F[{feature}])")
    if not terms:
        return "no correction (plain Spalart-Allmaras)"
    scale = float(values.get("featureScale", 1.0))
    return "; ".join(terms) + f"; featureScale {scale:.3g}"
