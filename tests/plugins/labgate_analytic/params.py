"""The analytic workload's parameters, and the closed forms its gate judges results against."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools import TaskError, describe_validation_error


class AnalyticParams(BaseModel):
    """What an `analytic/<task>` experiment computes: a partial sum, or a quadrature of x**power on [0, 1]."""

    model_config = ConfigDict(extra="forbid")

    problem: Literal["geometric", "quadrature"]
    ratio: float = Field(default=0.5, gt=-1, lt=1, description="geometric: the common ratio r")
    terms: int = Field(default=60, ge=1, le=100_000, description="geometric: terms summed, r**0 .. r**(terms-1)")
    power: int = Field(default=2, ge=0, le=12, description="quadrature: the integrand is x**power")
    intervals: int = Field(default=2000, ge=1, le=1_000_000, description="quadrature: midpoint-rule intervals")


def parse_params(params: dict[str, object], task_id: str) -> AnalyticParams:
    try:
        return AnalyticParams.model_validate(params)
    except ValidationError as error:
        raise TaskError(f"invalid analytic parameters for {task_id}: {describe_validation_error(error)}") from None


def closed_form(params: AnalyticParams) -> float:
    """The exact value: (1 - r**n) / (1 - r) for the series, 1 / (power + 1) for the integral."""
    if params.problem == "geometric":
        return (1 - params.ratio**params.terms) / (1 - params.ratio)
    return 1 / (params.power + 1)
