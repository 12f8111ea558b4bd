"""Typed gate options: each gate states the settings it reads, their defaults and their bounds.

A gate's settings decide what it accepts, so they are validated where a task is submitted: an
unknown gate, an unknown option or a value out of bounds is refused before anything runs, never
found out after the solver ran (or, worse, silently ignored while the default applies).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from runs import LabgateError


class GateOptionsError(LabgateError, ValueError):
    """A task's gate settings are not valid; the message names the gate and the option."""


class GateOptions(BaseModel):
    """The base of every gate's options model: unknown keys are refused, values are frozen once read.

    Infinite and NaN limits are refused too: `rmse_max: .inf` would accept anything while looking
    like a number.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
