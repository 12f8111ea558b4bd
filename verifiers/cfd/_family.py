"""The case family a CFD gate judges, shared by the gates that read a case through its family."""

from __future__ import annotations

from typing import Any

from tools.cfd import CaseDefinition, case_definitions
from verifiers._gate import GateContext


def case_family(context: GateContext) -> CaseDefinition[Any] | str:
    """The family the experiment's `case` parameter names, or the reason for the verdict when none does."""
    kind = str(context.experiment.params.get("case", ""))
    definition = case_definitions().get(kind)
    return definition if definition is not None else f"no case family {kind!r}"


def completed_case(context: GateContext, nothing_to: str) -> tuple[CaseDefinition[Any], Any] | str:
    """The family and parsed parameters of a completed experiment, or the reason there is nothing to judge.

    `nothing_to` completes "nothing to ..." (what the gate would have done) for a failed experiment.
    """
    definition = case_family(context)
    if isinstance(definition, str):
        return definition
    if context.outcome.status != "completed":
        return f"nothing to {nothing_to}: {context.outcome.error or 'experiment failed'}"
    return definition, definition.parse(context.experiment.params)
