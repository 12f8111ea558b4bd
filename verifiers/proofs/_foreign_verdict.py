"""The verdict of the Lean 4 and Isabelle gates (the Coq gate's `ProofVerdict`, without Coq's parts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class ForeignVerdict:
    """Decision, reasons, the axioms (Lean) the proof rests on, the file checked, and the time spent."""

    decision: Literal["accept", "reject"]
    reasons: list[str]
    assumptions: list[str] = field(default_factory=list)
    check_source: str = ""
    seconds: float = 0.0
    checker_seconds: float = 0.0
