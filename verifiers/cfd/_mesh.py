"""The mesh-independence gate: rerun an accepted case on a finer mesh; its answer must not move.

The refined run goes to `mesh-check/` inside the experiment directory (never into the case itself);
results the user brought (`agent check --rerun`) must first be what the case, re-run as given into
`reproduce/`, computes (`verifiers.cfd._same_case`);
the quantities of interest are read from both runs' raw fields by the case family's own reader and
compared against the family's stated tolerances (a task may override them).

Only a real refinement counts: the refined run's solver must have run to its end (no fatal error, no
non-finite residual, a final 'End'), its mesh (the one its latest fields live on) must be known to hold
at least `factor` times the original's cells, `RATIO_SLACK` allowing for rounded counts (a refinement that
silently kept the old mesh would reproduce the answer exactly, and one that refined a few cells, as a
case's own refineMeshDict once made labgate's refineMesh do, nearly so), and every quantity on both
meshes must be a finite number (a NaN compares as "unchanged" with anything). The verdict reports the
cell ratio measured, beside the refinement asked for.

Every refinement labgate makes refines at least one direction by the whole factor (a 1-D channel refines
one, a 2-D case two, refineMesh every direction a mesh has), so `factor` is the least ratio any family can
give; a family that refines fewer cells than that did not refine the mesh the gate judges.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import Field, PositiveFloat

from runs import ExperimentSpec, GateResult
from tools import ExperimentOutcome
from tools.cfd import CaseDefinition, FieldFormatError
from verifiers._gate import Gate, GateContext, blocking_verdict
from verifiers._options import GateOptions
from verifiers.cfd._family import case_family
from verifiers.cfd._field_change import regions
from verifiers.cfd._refinement import measure_refinement, unrefined_problem
from verifiers.cfd._reproduction import ReproductionGate
from verifiers.cfd._same_case import field_changes, field_line, inputs_changed, reproduction_problem, solved_cells
from verifiers.cfd._solver_log import finished_run_problem

FIELD = "field"
"""The tolerance name of the cell-by-cell field comparison (`CaseDefinition.mesh_fields`)."""
RATIO_SLACK = 0.1
"""How far below `factor` the measured cell ratio may fall: counts are whole numbers, rounded."""


def _not_finite(quantities: dict[str, float]) -> list[str]:
    return [f"{name} = {value}" for name, value in sorted(quantities.items()) if not math.isfinite(value)]


class MeshIndependenceOptions(GateOptions):
    factor: float = Field(default=1.5, gt=1.0, le=8.0, description="refinement ratio of the finer mesh")
    tolerances: dict[str, PositiveFloat] = Field(
        default_factory=dict, description="quantity -> relative change allowed (over the case family's own)"
    )


class MeshIndependenceGate(Gate):
    """Options: see `MeshIndependenceOptions`."""

    name = "mesh-independence"
    Options = MeshIndependenceOptions
    options: MeshIndependenceOptions
    needs_run = True

    @staticmethod
    def _refined_cell_ratio(
        context: GateContext, directory: Path, outcome: ExperimentOutcome, factor: float, *, local: bool
    ) -> str | float:
        """Why the refined run cannot stand beside the original, if it cannot: its solver died, diverged or
        stopped before its end, or its mesh is not `factor` times finer (with `local`, for a mesh from the
        user's files: in every region, `verifiers.cfd._refinement`); else the cell ratio measured. (How
        far its residuals fell is not judged: a finer mesh converges more slowly, and what counts is whether
        its answer moved.)"""
        problem = finished_run_problem(directory, outcome)
        if problem is not None:
            return f"the refined run's solver log: {problem}"
        before, after = solved_cells(context.path("case")), solved_cells(directory / "case")
        if before is None or after is None:
            which = "original" if before is None else "refined"
            return f"the {which} run's mesh does not say how many cells it has: whether it was refined cannot be told"
        if after <= before:
            return f"the refined mesh has {after} cells, the original {before}: the mesh was not refined"
        ratio = after / before
        if ratio < factor * (1.0 - RATIO_SLACK):
            return (
                f"the refined mesh has {after} cells, {ratio:.3g}x the original's {before}: a {factor:g}x refinement "
                f"makes at least {factor:g}x as many, so most of the mesh was not refined"
            )
        if local:
            # Each connected region on its own; a mesh whose regions cannot be told is measured whole here, and
            # refused by the field comparison, which cannot judge it either.
            labels = regions(context.path("case"), before)
            found = measure_refinement(
                context.path("case"),
                directory / "case",
                factor,
                (before, after),
                labels=None if isinstance(labels, str) else labels,
            )
            if isinstance(found, str):
                return f"whether every region was refined cannot be told: {found}"
            problem = unrefined_problem(found, factor)
            if problem is not None:
                return problem
        return ratio

    @staticmethod
    def _reproduced(context: GateContext, definition: CaseDefinition[Any]) -> tuple[str | None, float]:
        """Whether an adopted case's results are what the case computes: the reproduction gate's verdict where it
        judged this experiment first (the case is not run a second time), else the same re-run made here."""
        earlier = next((verdict for verdict in context.prior if verdict.gate == ReproductionGate.name), None)
        if earlier is None:
            return reproduction_problem(context, definition)
        change = float(earlier.metrics.get("reproduction_change", 0.0))
        if earlier.decision != "accept":
            return f"the reproduction gate did not accept: {'; '.join(earlier.reasons)}", change
        return None, change

    def check(self, context: GateContext) -> GateResult:
        blocking = blocking_verdict(context)
        if blocking is not None:
            return self.verdict(
                blocking.decision,
                [f"not run: {blocking.gate} did not accept ({blocking.decision}); only accepted results are refined"],
                confidence=0.0,
            )
        definition = case_family(context)
        if isinstance(definition, str):
            return self.verdict("reject", [definition])
        kind = str(context.experiment.params.get("case", ""))
        if context.rerun is None:
            return self.verdict("reject", ["mesh independence needs a new run, and none is allowed here"])
        options = self.options
        factor = options.factor
        refined = definition.refine(dict(context.experiment.params), factor)
        if refined is None:
            return self.verdict("reject", [f"a {kind} case cannot be refined"])
        if "mesh_factor" in refined:
            # A family may refine by its own ratio (one refineMesh pass halves every cell).
            factor = float(refined["mesh_factor"]) / float(context.experiment.params.get("mesh_factor", 1.0))
        tolerances = {**definition.mesh_tolerances, **options.tolerances}
        unreproduced, reproduction = self._reproduced(context, definition)
        if unreproduced is not None:
            return self.verdict("reject", [unreproduced])
        params = definition.parse(context.experiment.params)
        try:
            coarse = definition.quantities(context.path("case"), params)
        except (FieldFormatError, ValueError) as error:
            return self.verdict("reject", [f"cannot read the quantities of interest: {error}"])
        spec = ExperimentSpec(
            key=f"{context.experiment.key}-mesh",
            task_id=context.experiment.task_id,
            params=refined,
            parent_key=context.experiment.key,
            rationale=f"mesh-independence check, {factor:g}x finer",
        )
        directory = context.directory / "mesh-check"
        outcome = context.rerun(spec, directory)
        if outcome.status != "completed":
            return self.verdict("reject", [f"the refined run failed: {outcome.error}"])
        if (changed := inputs_changed(context.outcome.info, outcome.info, required=definition.user_mesh)) is not None:
            return self.verdict("reject", [changed])
        ratio = self._refined_cell_ratio(context, directory, outcome, factor, local=definition.user_mesh)
        if isinstance(ratio, str):
            return self.verdict("reject", [ratio])
        try:
            fine = definition.quantities(directory / "case", definition.parse(refined))
        except (FieldFormatError, ValueError) as error:
            return self.verdict("reject", [f"cannot read the refined run: {error}"])
        for which, values in (("original", coarse), ("refined", fine)):
            if broken := _not_finite(values):
                return self.verdict(
                    "reject", [f"the {which} run's quantities are not finite numbers: {', '.join(broken)}"]
                )
        reasons: list[str] = []
        moved: list[str] = []
        metrics: dict[str, float] = {"refinement": factor, "cell_ratio": ratio}
        if context.outcome.info.get("adopted"):
            metrics["reproduction_change"] = reproduction
        if FIELD in tolerances:
            changes = field_changes(definition, context.path("case"), directory / "case")
            if isinstance(changes, str):
                return self.verdict("reject", [f"whether the field moved cannot be told: {changes}"])
            for found in changes:
                metrics[f"field_change_{found.field}"] = found.change
                line = field_line(found, tolerances[FIELD])
                (moved if found.change > tolerances[FIELD] else reasons).append(line)
            most = max(changes, key=lambda found: found.change)
            metrics["field_change"], metrics["field_worst_change"] = most.change, most.worst
        for name, tolerance in sorted(tolerances.items()):
            if name == FIELD:
                continue
            if name not in coarse or name not in fine:
                moved.append(f"{name} is missing from {'the refined' if name in coarse else 'the original'} run")
                continue
            change = abs(fine[name] - coarse[name]) / max(abs(fine[name]), 1e-12)
            metrics[f"{name}_coarse"], metrics[f"{name}_fine"], metrics[f"{name}_change"] = (
                coarse[name],
                fine[name],
                change,
            )
            line = (
                f"{name}: {coarse[name]:.4g} -> {fine[name]:.4g} "
                f"({100 * change:.2f} %, tolerance {100 * tolerance:g} %)"
            )
            (moved if change > tolerance else reasons).append(line)
        evidence = context.digests([item.path for item in context.outcome.files if item.kind == "field"])
        if moved:
            return self.verdict(
                "revise",
                [f"the result depends on the mesh ({factor:g}x finer, {ratio:.3g}x the cells):", *moved, *reasons],
                evidence=evidence,
                metrics=metrics,
            )
        return self.verdict(
            "accept",
            [f"unchanged on a {factor:g}x finer mesh ({ratio:.3g}x the cells):", *reasons],
            evidence=evidence,
            metrics=metrics,
        )
