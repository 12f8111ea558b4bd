"""The comparator of `cfd/case`: the user's own reference CSV against labgate's reading of the raw fields.

The values are interpolated from the latest time's cell-centre fields by `tools.cfd.compare_reference`
(never from the solver's sampling output); every point must lie within its own tolerance. A case
given no reference passes with confidence 0 and says so: nothing was compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.cfd import (
    REFERENCE_COPY,
    FieldFormatError,
    ReferenceFormatError,
    compare_reference,
    latest_time,
    parse_reference,
)
from verifiers._gate import GateContext

if TYPE_CHECKING:
    from runs import GateResult
    from verifiers.cfd._comparator import ComparatorGate, ComparatorOptions


def compare_user_reference(gate: ComparatorGate, context: GateContext, options: ComparatorOptions) -> GateResult:
    if not context.experiment.params.get("reference"):
        return gate.verdict(
            "accept", ["no user reference given (--param reference=FILE.csv): nothing compared"], confidence=0.0
        )
    try:
        points = parse_reference(context.read_bytes(REFERENCE_COPY).decode(errors="replace"), REFERENCE_COPY)
    except (ReferenceFormatError, OSError, ValueError) as error:
        return gate.verdict("reject", [f"cannot read the reference copied with the result: {error}"])
    case = context.path("case")
    latest = latest_time(case)
    if latest is None:
        return gate.verdict("reject", ["no time directory after 0: nothing to compare"])
    try:
        results = compare_reference(case, latest[1], points)
    except FieldFormatError as error:
        return gate.verdict("reject", [f"cannot read the fields to compare: {error}"])
    evidence = context.digests([REFERENCE_COPY, f"case/{latest[1].name}/C"])
    reasons: list[str] = []
    metrics: dict[str, float] = {}
    failed = False
    for result in results:
        metrics[f"{result.quantity}_rmse"] = result.rmse
        metrics[f"{result.quantity}_worst_error"] = result.worst_error
        where = "(" + " ".join(f"{v:g}" for v in result.worst_location) + ")"
        line = (
            f"{result.quantity}: {result.points} points, RMSE {result.rmse:.4g}, worst error {result.worst_error:.4g} "
            f"at {where} (tolerance {result.worst_allowed:.4g}), read from the raw fields at t = {latest[0]:g}"
        )
        if result.outside:
            failed = True
            line += f"; {result.outside} points lie outside the mesh"
        if result.failed:
            failed = True
            line += f"; {result.failed} of {result.points} points outside their tolerance"
        reasons.append(line)
    return gate.verdict("reject" if failed else "accept", reasons, evidence=evidence, metrics=metrics)
