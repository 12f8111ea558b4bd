"""How research documents state CFD parameters: what the rule planner reads a case's settings from."""

from __future__ import annotations

from tools._prose import ProsePattern

_NUMBER_LIST = r"((?:\d[\d,]*(?:\.\d+)?(?:\s*(?:,|and|&|or)\s*)?)+)"

CFD_PROSE_PATTERNS: dict[str, ProsePattern] = {
    "re": ProsePattern(
        (
            rf"\bRe(?:ynolds)?\s*(?:number)?s?\s*(?:=|of|at)?\s*{_NUMBER_LIST}",
            rf"Reynolds numbers?\s+(?:of\s+|between\s+)?{_NUMBER_LIST}",
        )
    ),
    "cells": ProsePattern((r"\b(\d{2,4})\s*(?:x|×|by)\s*\1\b",)),
    "turbulence_model": ProsePattern(
        (r"\b(kEpsilon|kOmegaSST|SpalartAllmaras|k-epsilon|k-omega SST|Spalart-Allmaras)\b",),
        values="word",
        aliases={"k-epsilon": "kEpsilon", "k-omega sst": "kOmegaSST", "spalart-allmaras": "SpalartAllmaras"},
    ),
}
"""Parameter name -> how documents state its values ("Reynolds numbers of 100 and 400", "a 48 x 48 grid")."""
