"""What a gate may ask of a vision model, without knowing which model or client answers.

`verifiers` never imports `agents`, where the LLM clients live; so the gate declares the small
callable it needs here, and the orchestrator (or the CLI) adapts its configured LLM to it and
passes it in through the GateContext. Without a configured vision model the callable is absent and
the gates rely on their offline checks alone (and say so). With one, the model's verdict binds: a
model that cannot be reached, or answers with anything but a well-formed verdict, leaves the
result "not accepted (vision inconclusive)" rather than accepted on the offline checks alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field


class VisionVerdict(BaseModel):
    """The structured answer a vision model must give about a result's figures."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "rerun", "revise"] = Field(
        description="accept: the figures show a correct result; rerun: numerical trouble (divergence, "
        "oscillation, unconverged); revise: the physics or the requirement is not met"
    )
    reasons: list[str] = Field(default_factory=list, description="what in the figures supports the decision")


VISION_INCONCLUSIVE = "not accepted (vision inconclusive)"
"""How a verdict says that a configured vision model gave no usable answer."""


class VisionJudge(Protocol):
    """Looks at images with a requirement in mind and returns a structured verdict.

    Images are passed as bytes the gate read itself (never a path into the experiment directory
    for someone else to open); any failure to answer is raised, and the gate records it.
    """

    def __call__(self, requirement: str, images: Sequence[bytes | Path]) -> VisionVerdict: ...


class VisionOutcome(NamedTuple):
    """What consulting the vision model gave: a decision for the gate, its reasons, and whether it answered."""

    decision: Literal["accept", "rerun", "revise", "reject"]
    reasons: list[str]
    answered: bool


def consult_vision(judge: VisionJudge, requirement: str, images: Sequence[bytes]) -> VisionOutcome:
    """Ask the configured vision model, and turn every way it can fail to answer into a non-acceptance.

    An unreachable or failing model, a malformed or refused reply, an acceptance that gives no
    reason, or nothing to show it: each is `reject` with VISION_INCONCLUSIVE, because a configured
    model that did not look cannot be replaced silently by the offline checks.
    """
    if not images:
        return VisionOutcome("reject", [f"{VISION_INCONCLUSIVE}: no figure could be read to show the model"], False)
    try:
        verdict = judge(requirement, images)
    except Exception as error:  # noqa: BLE001 - any failure of the model is recorded, never raised past the gate
        said = " ".join(str(error).split())[:300]
        return VisionOutcome("reject", [f"{VISION_INCONCLUSIVE}: {type(error).__name__}: {said}"], False)
    if not isinstance(verdict, VisionVerdict):
        return VisionOutcome("reject", [f"{VISION_INCONCLUSIVE}: the model gave no structured verdict"], False)
    # One line each: a reason goes into verdicts and reports, where a line break could open a section of its own.
    reasons = [" ".join(reason.split()) for reason in verdict.reasons if reason.strip()]
    if not reasons:
        return VisionOutcome("reject", [f"{VISION_INCONCLUSIVE}: the model's {verdict.decision} gave no reason"], False)
    return VisionOutcome(verdict.decision, [f"vision model: {reason[:500]}" for reason in reasons[:10]], True)
