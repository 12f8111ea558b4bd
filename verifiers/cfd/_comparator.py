"""The CFD comparator: the metric against reference data, recomputed by an independent reader.

The harness's own numbers come from OpenFOAM's line sampling; this gate recomputes them from
the raw cell fields, scores them against the shipped reference table, and rejects when the
two readings disagree (a sign that one of them reads something other than the solution). Before
any of that it checks the case ran at the reference's conditions: its Reynolds number must be one the
reference holds data at, within `reynolds_tolerance`, or the comparison is rejected naming both.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pydantic import Field

from runs import GateResult
from tools.cfd import (
    CavityParams,
    FieldFormatError,
    ghia_conditions,
    ghia_metrics,
    ghia_profiles,
    latest_time,
    profiles_from_fields,
    profiles_from_samples,
    reader_disagreement,
)
from verifiers._gate import Gate, GateContext
from verifiers._options import GateOptions
from verifiers.cfd._flows import compare_channel, compare_hill, compare_step
from verifiers.cfd._user_reference import compare_user_reference


class ComparatorOptions(GateOptions):
    """Limits per case kind; `reader_tolerance` (how far the two independent readings may differ)
    defaults to the case kind's own value when unset."""

    rmse_max: float = Field(default=0.02, gt=0, description="cavity: centreline RMSE over the lid speed")
    profile_rmse_max: float = Field(default=0.02, gt=0, description="channel: profile RMSE over the bulk speed")
    wall_shear_tolerance: float = Field(default=0.05, gt=0, description="channel: relative wall-shear error")
    reattachment_tolerance: float = Field(default=0.15, gt=0, description="step: relative reattachment error")
    cf_rmse_max: float = Field(default=0.006, gt=0, description="hill: lower-wall Cf RMSE")
    reynolds_tolerance: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description=(
            "relative distance of the case's Reynolds number from the reference's that is still compared; "
            "unset: cavity 0.01 (of a Re Ghia et al. tabulate), step 0.2 (of Pitz & Daily's 22,000), "
            "hill 0.05 (of the DNS's 5600)"
        ),
    )
    reader_tolerance: float | None = Field(
        default=None, gt=0, description="unset: cavity and channel 0.03, step 0.3 H, hill 0.0015 in Cf"
    )

    def reader(self, default: float) -> float:
        return default if self.reader_tolerance is None else self.reader_tolerance


Comparator = Callable[["ComparatorGate", GateContext, ComparatorOptions], GateResult]


def compare_cavity(gate: ComparatorGate, context: GateContext, options: ComparatorOptions) -> GateResult:
    params = CavityParams.model_validate({k: v for k, v in context.experiment.params.items() if k != "case"})
    rmse_max = options.rmse_max
    tolerance = options.reader(0.03)
    conditions = ghia_conditions()
    reference_re = conditions.nearest(params.re, options.reynolds_tolerance)
    if reference_re is None:
        mismatch = conditions.mismatch(params.re, options.reynolds_tolerance)
        return gate.verdict("reject", [str(mismatch)], metrics={"reynolds": params.re})
    u_ref, v_ref = ghia_profiles(reference_re)
    case = context.path("case")
    latest = latest_time(case)
    read_files: list[str] = []
    if latest is not None:
        read_files = [f"case/{latest[1].name}/U", f"case/{latest[1].name}/C"]
    try:
        from_fields = profiles_from_fields(case, params)
        from_samples = profiles_from_samples(case, params)
    except (FieldFormatError, ValueError) as error:
        return gate.verdict("reject", [f"cannot read the solution: {error}"], evidence=context.digests(read_files))
    sample_dir = f"case/postProcessing/centrelines/{from_samples.source.rsplit('/', 1)[-1]}"
    read_files += [f"{sample_dir}/vertical_U.xy", f"{sample_dir}/horizontal_U.xy"]
    evidence = context.digests(read_files)
    metrics = ghia_metrics(from_fields, u_ref, v_ref)
    disagreement = reader_disagreement(from_fields, from_samples)
    metrics["reader_disagreement"] = disagreement
    metrics["rmse_max"] = rmse_max
    reasons = [*u_ref.exclusions, *v_ref.exclusions]
    summary = (
        f"centreline RMSE vs {u_ref.source.split(',')[0]} et al.: u {metrics['rmse_u']:.4f}, "
        f"v {metrics['rmse_v']:.4f} (limit {rmse_max:g}, units of the lid speed)"
    )
    if from_fields.time != from_samples.time:
        return gate.verdict(
            "reject",
            [f"field time {from_fields.time:g} and sampled time {from_samples.time:g} differ", *reasons],
            evidence=evidence,
            metrics=metrics,
        )
    if disagreement > tolerance:
        return gate.verdict(
            "reject",
            [
                f"independent readers disagree by {disagreement:.3g} (tolerance {tolerance:g})",
                summary,
                *reasons,
            ],
            evidence=evidence,
            metrics=metrics,
        )
    if max(metrics["rmse_u"], metrics["rmse_v"]) > rmse_max:
        return gate.verdict("revise", [summary, *reasons], evidence=evidence, metrics=metrics)
    return gate.verdict(
        "accept",
        [summary, f"raw-field and sampled readings agree to {disagreement:.3g}", *reasons],
        evidence=evidence,
        metrics=metrics,
    )


COMPARATORS: dict[str, Comparator] = {
    "cavity": compare_cavity,
    "poiseuille": compare_channel,
    "backward-step": compare_step,
    "periodic-hill": compare_hill,
    "case": compare_user_reference,
}


class ComparatorGate(Gate):
    """Options: per case kind, see `ComparatorOptions`."""

    name = "comparator"
    Options = ComparatorOptions
    options: ComparatorOptions

    def check(self, context: GateContext) -> GateResult:
        kind = str(context.experiment.params.get("case", ""))
        comparator = COMPARATORS.get(kind)
        if comparator is None:
            return self.verdict("reject", [f"no comparator for case kind {kind!r}"])
        if context.outcome.status != "completed":
            return self.verdict("reject", [f"nothing to compare: {context.outcome.error or 'experiment failed'}"])
        return _finite_or_rejected(comparator(self, context, self.options))


def _finite_or_rejected(result: GateResult) -> GateResult:
    """A comparison whose metrics hold a NaN or an infinity compared nothing: every limit test of a NaN is
    false, so 'RMSE nan' would pass an `rmse > limit` check and 'readers agree to nan' a disagreement check."""
    broken = sorted(name for name, value in result.metrics.items() if not math.isfinite(value))
    if not broken or result.decision == "reject":
        return result
    reason = f"non-finite metrics ({', '.join(broken)}): the solution holds no finite values to compare"
    return result.model_copy(update={"decision": "reject", "reasons": [reason, *result.reasons]})
