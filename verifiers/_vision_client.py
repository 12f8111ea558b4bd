"""What a gate may ask of a vision model, without knowing which model or client answers.

`verifiers` never imports `agents`, where the LLM clients live; so the gate declares the small
callable it needs here, and the orchestrator (or the CLI) adapts its configured LLM to it and
passes it in through the GateContext. Without a configured model the callable is absent and the
gates rely on their offline checks alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class VisionVerdict(BaseModel):
    """The structured answer a vision model must give about a result's figures."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "rerun", "revise"] = Field(
        description="accept: the figures show a correct result; rerun: numerical trouble (divergence, "
        "oscillation, unconverged); revise: the physics or the requirement is not met"
    )
    reasons: list[str] = Field(default_factory=list, description="what in the figures supports the decision")


class VisionJudge(Protocol):
    """Looks at images with a requirement in mind and returns a structured verdict."""

    def __call__(self, requirement: str, images: Sequence[Path]) -> VisionVerdict: ...
