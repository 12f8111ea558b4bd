"""The analytic workload's gate: the tool's result against the closed form, never the tool's word for it."""

from __future__ import annotations

import json
import math

from pydantic import Field

from labgate_analytic.params import closed_form, parse_params
from labgate_analytic.workload import RESULT
from runs import GateResult, UntrustedFileError
from verifiers import Gate, GateContext, GateOptions


class ClosedFormOptions(GateOptions):
    rel_tol: float = Field(default=1e-6, gt=0, le=1, description="largest relative error accepted")


class ClosedFormGate(Gate):
    """Recomputes the exact value from the experiment's parameters and compares the tool's result with it."""

    name = "analytic-closed-form"
    Options = ClosedFormOptions
    options: ClosedFormOptions

    def check(self, context: GateContext) -> GateResult:
        params = parse_params(context.experiment.params, context.task.id)
        try:
            data = json.loads(context.read_text(RESULT, max_bytes=1 << 16))
        except (UntrustedFileError, ValueError) as error:
            return self.verdict("reject", [f"{RESULT} is not a readable result: {error}"])
        value = data.get("value") if isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return self.verdict("reject", [f"{RESULT} holds no finite value (got {value!r})"])
        exact = closed_form(params)
        relative = abs(value - exact) / abs(exact)
        metrics = {"value": float(value), "exact": exact, "relative_error": relative}
        evidence = context.digests([RESULT])
        limit = self.options.rel_tol
        if relative > limit:
            reason = f"{params.problem}: {value!r} is {relative:.3g} from the closed form {exact!r} (limit {limit:g})"
            return self.verdict("reject", [reason], evidence=evidence, metrics=metrics)
        reason = (
            f"{params.problem}: {value!r} matches the closed form {exact!r} within {relative:.2g} (limit {limit:g})"
        )
        return self.verdict("accept", [reason], evidence=evidence, metrics=metrics)
