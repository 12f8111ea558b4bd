"""A verdict as the run store hands it back: the gate's own `GateResult`, plus where it was recorded.

A verdict has one shape from the gate to the page: what a gate returns is what the store records,
and what the store returns is that same result with its id (reports cite it as `[V<id>]`) and the
experiment it judged. Nothing between the store and a page re-packs it.
"""

from __future__ import annotations

from pydantic import Field

from runs._records import GateResult


class RecordedVerdict(GateResult):
    """A `GateResult` read back from the run store."""

    id: int = Field(description="the verdict's id in the store; reports cite it as [V<id>]")
    experiment_id: int | None = Field(
        default=None, description="the judged experiment's id; None for a verdict on the whole run (the write-up)"
    )
    experiment: str = Field(default="", description="the judged experiment's key; empty for a verdict on the run")
