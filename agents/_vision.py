"""The vision model a gate may consult, built from the run's LLM.

Gates declare what they need (`verifiers.VisionJudge`: requirement + images -> VisionVerdict) because
`verifiers` must not import `agents`; this adapter turns any `agents.llm.LLM` into that callable.
Only a client with a vision model configured (`LABGATE_LLM_VISION_MODEL`) becomes a judge: images
are never sent to a text model, and the client routes every request with images to that model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from agents.llm import LLM, Message
from verifiers import VisionJudge, VisionVerdict

_SYSTEM = (
    "You review figures of a computational fluid dynamics result for a verification gate. "
    "Answer only from what the figures show. Decide 'accept' when they show a converged, physically "
    "plausible solution meeting the requirement; 'rerun' for numerical trouble (divergence, oscillating or "
    "stalled residuals, noise, checkerboard patterns, blank or NaN regions); 'revise' when the physics or the "
    "requirement is not met (missing or spurious recirculation, wrong flow direction, broken symmetry)."
)


@runtime_checkable
class _HasVisionModel(Protocol):
    @property
    def vision_model(self) -> str | None: ...


def vision_judge_for(llm: LLM | None) -> VisionJudge | None:
    """The run's vision judge: one when the LLM client has a vision model configured, else None."""
    if llm is None or not isinstance(llm, _HasVisionModel) or not llm.vision_model:
        return None
    return llm_vision_judge(llm)


def llm_vision_judge(llm: LLM, *, max_tokens: int = 800) -> VisionJudge:
    """A VisionJudge that sends the images with the requirement and asks for a structured verdict."""

    def judge(requirement: str, images: Sequence[bytes | Path]) -> VisionVerdict:
        messages = [
            Message("system", _SYSTEM),
            Message("user", f"Requirement: {requirement}\nFigures attached: {len(images)}.", tuple(images)),
        ]
        return llm.structured(messages, VisionVerdict, temperature=0.0, max_tokens=max_tokens)

    return judge
