"""A search over a workload's parameters: the box, the objective a proposer may read, and the budget.

The workload states what may vary and which gate metric is the in-sample objective; a proposer in
`agents/` reads only that metric, so quantities other gates hold out never reach it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from runs import MAX_SEED
from tools._repeated import listed_twice


class SearchParameter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    default: float
    low: float
    high: float
    categorical: bool = False
    """Whole numbers from `low` to `high` naming forms, not amounts (a model-form switch): 3 is no nearer to 4
    than to 0, so a proposer draws them rather than stepping from the default through its neighbours."""

    @model_validator(mode="after")
    def _check(self) -> SearchParameter:
        if not self.low <= self.default <= self.high:
            raise ValueError(f"{self.name}: default {self.default:g} outside [{self.low:g}, {self.high:g}]")
        if self.categorical and not all(float(v).is_integer() for v in (self.low, self.high, self.default)):
            raise ValueError(f"{self.name}: a categorical parameter's bounds and default are whole numbers")
        return self


class SearchSpace(BaseModel):
    """Candidates set `params[key][name]` for each parameter; everything else comes from the task."""

    model_config = ConfigDict(extra="forbid")

    key: str
    parameters: list[SearchParameter]
    objective_gate: str
    objective_metric: str
    runs: int = Field(ge=1, le=10_000, description="candidate experiments, the baseline not counted")
    population: int = Field(ge=1, le=64, description="candidates proposed and run together")
    seed: int = Field(
        default=0, ge=0, le=MAX_SEED, description="the proposer's seed (CMA-ES refuses one outside 0 to 2**32 - 1)"
    )
    baseline_key: str = "default"

    def __init__(self, **data: Any) -> None:
        """As pydantic's, but a bad setting is one line naming it (the error reaches users as given)."""
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise ValueError(_one_line(error)) from None

    @model_validator(mode="after")
    def _distinct(self) -> SearchSpace:
        names = [parameter.name for parameter in self.parameters]
        twice = sorted(listed_twice(names))
        if twice:
            # Two coordinates for one coefficient: the proposer would search a box of the wrong dimension.
            raise ValueError(f"parameters: {', '.join(twice)} listed more than once")
        return self

    def clamp(self, values: dict[str, float]) -> dict[str, float]:
        known = {parameter.name: parameter for parameter in self.parameters}
        return {name: min(max(float(values.get(name, p.default)), p.low), p.high) for name, p in known.items()}

    def candidate_params(self, base: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
        params = {k: v for k, v in base.items() if k != "search"}
        nested = dict(params.get(self.key, {}))
        nested.update({name: float(f"{value:.10g}") for name, value in self.clamp(values).items()})
        params[self.key] = nested
        return params

    def values_of(self, params: dict[str, Any]) -> dict[str, float]:
        nested = params.get(self.key, {}) or {}
        return {p.name: float(nested.get(p.name, p.default)) for p in self.parameters}


def _one_line(error: ValidationError) -> str:
    """`field: message` for each problem, joined: pydantic's own text spans lines and links to its docs."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
