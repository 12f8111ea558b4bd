"""A case that uses the corrected model carries its compiled library: `lib/` holds it, the controlDict
loads it, and `model/` keeps the C++ it was built from and its diff against the family (the record a
dashboard shows beside the candidate's rationale)."""

from __future__ import annotations

from typing import Any

from tools.cfd.models._build import build_model
from tools.cfd.models._family import LIBRARY_DIR, family_source, load_directive, source_diff

CaseData = dict[str, str | bytes]


def model_coefficients(params: Any) -> Any | None:
    """The SA coefficients of a case's parameters when they call for the compiled model, else None."""
    sa = getattr(params, "sa", None)
    if sa is None or not getattr(sa, "corrected", False):
        return None
    if getattr(params, "model", "SpalartAllmaras") != "SpalartAllmaras":
        return None
    return sa


def with_compiled_model(params: Any, files: dict[str, str]) -> CaseData:
    """`files` plus the compiled model the parameters need (compiled or taken from the cache).

    Raises ModelCompileError (with the compiler's diagnostics) or HeadersUnavailableError."""
    sa = model_coefficients(params)
    case: CaseData = dict(files)
    if sa is None:
        return case
    source: str = sa.source if sa.source is not None else family_source()
    built = build_model(source)
    case[f"{LIBRARY_DIR}/{built.file_name}"] = built.library.read_bytes()
    control = files["system/controlDict"]
    case["system/controlDict"] = control + load_directive(built.file_name)
    case["model/SAcorrected.C"] = source
    diff = source_diff(source)
    if diff:
        case["model/SAcorrected.diff"] = diff
    return case
