"""The physical-range gate: is the solution a flow that can exist under the task's conditions?

Checks, from the raw fields: every value finite; the largest speed within a stated multiple of the
reference velocity; the bulk flow going the way the task asked; and y+ at the walls in the range the
wall treatment needs (below a few for resolved walls, below the log-layer limit for wall functions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from runs import Decision, GateResult
from tools.cfd import (
    FieldFormatError,
    latest_time,
    mesh_cell_count,
    mesh_patches,
    parse_boundary_values,
    parse_internal_field,
    read_field_text,
    read_patch_field,
)
from verifiers._gate import Gate, GateContext
from verifiers._options import GateOptions
from verifiers.cfd._family import completed_case

_ORDER = {"accept": 0, "rerun": 1, "revise": 2, "reject": 3}


class PhysicalRangeOptions(GateOptions):
    speed_max: float = Field(default=3.0, gt=0, description="largest |U| over the reference velocity")
    direction_min: float = Field(
        default=0.05, ge=-1.0, le=1.0, description="mean velocity along the requested direction over U_ref"
    )
    yplus_max_resolved: float = Field(default=5.0, gt=0, description="largest y+ at resolved walls")
    yplus_max_wall_function: float = Field(default=300.0, gt=0, description="largest y+ with wall functions")


class PhysicalRangeGate(Gate):
    """Options: see `PhysicalRangeOptions`."""

    name = "physical-range"
    Options = PhysicalRangeOptions
    options: PhysicalRangeOptions

    def check(self, context: GateContext) -> GateResult:
        found = completed_case(context, "check")
        if isinstance(found, str):
            return self.verdict("reject", [found])
        definition, params = found
        case = context.path("case")
        latest = latest_time(case)
        if latest is None:
            return self.verdict("reject", ["no time directory after 0: the solver wrote no result"])
        _, folder = latest
        solution = definition.case_solution(case, folder)
        if solution is None:
            return self.verdict("reject", [f"case/{folder.name} holds no field the solver solved"])
        if solution.velocity is None:
            return self._without_velocity(context, case, folder, solution.names)
        name = solution.velocity
        files = [f"case/{folder.name}/{name}"]
        try:
            velocity, boundary = _solution_values(case, folder, name)
        except FieldFormatError as error:
            return self.verdict("reject", [f"cannot read the velocity: {error}"], evidence=context.digests(files))
        if velocity.size == 0:
            return self.verdict("reject", ["the velocity field holds no values"], evidence=context.digests(files))
        reasons: list[str] = []
        decision: Decision = "accept"

        def worse(new: Decision, reason: str) -> None:
            nonlocal decision
            reasons.append(reason)
            if _ORDER[new] > _ORDER[decision]:
                decision = new

        metrics: dict[str, float] = {}
        if velocity.ndim != 2 or not np.all(np.isfinite(velocity)):
            worse("rerun", "the velocity field holds non-finite values")
            return self.verdict(decision, reasons, evidence=context.digests(files))
        if broken := _non_finite_patches(boundary):
            worse("rerun", f"the velocity on the boundary holds non-finite values (patches {broken})")
            return self.verdict(decision, reasons, evidence=context.digests(files))
        # From the copy that ran: a user's case sets it in its own files, which only count where they apply.
        reference, basis = definition.run_reference_velocity(case, params)
        speed = float(np.max(np.linalg.norm(velocity, axis=1))) / reference
        metrics["speed_max_ratio"] = speed
        metrics["u_ref"] = reference
        options = self.options
        limit = options.speed_max
        if speed > limit:
            worse("revise", f"|U| reaches {speed:.3g} times the reference velocity (limit {limit:g})")
        direction = definition.bulk_direction(params)
        if direction is not None:
            along = float(np.mean(velocity @ np.asarray(direction))) / reference
            metrics["bulk_along_requested"] = along
            minimum = options.direction_min
            if along < minimum:
                worse("revise", f"the bulk flow runs against the requested direction {direction} (mean {along:.3g})")
        wall_model = definition.wall_model(params)
        if wall_model != "none":
            # Fail closed: a y+ the gate cannot read is a wall resolution nobody checked, not a passed check.
            yplus, problem = self._wall_yplus(case, folder, context.is_file(f"case/{folder.name}/yPlus"))
            if problem:
                worse("rerun", f"{problem}: the wall resolution ({wall_model} walls) cannot be checked")
            elif not np.all(np.isfinite(yplus)):
                files.append(f"case/{folder.name}/yPlus")
                # max() of a NaN is NaN, and 'NaN > cap' is false: the check would pass a broken wall.
                metrics["yplus_non_finite"] = float(np.count_nonzero(~np.isfinite(yplus)))
                worse("rerun", "y+ at the walls holds NaN or infinite values: the near-wall solution is broken")
            else:
                files.append(f"case/{folder.name}/yPlus")
                metrics["yplus_max"] = float(np.max(yplus))
                metrics["yplus_mean"] = float(np.mean(yplus))
                resolved = wall_model == "resolved"
                cap = options.yplus_max_resolved if resolved else options.yplus_max_wall_function
                if float(np.max(yplus)) > cap:
                    worse("revise", f"y+ reaches {np.max(yplus):.3g}; {wall_model} walls need y+ below {cap:g}")
        if decision == "accept":
            reasons.append(
                f"finite fields; |U| at most {speed:.3g} U_ref; bulk flow as requested"
                + (f"; y+ at most {metrics['yplus_max']:.3g}" if "yplus_max" in metrics else "")
            )
        if basis:
            reasons.append(basis)
        return self.verdict(decision, reasons, evidence=context.digests(files), metrics=metrics)

    def _without_velocity(self, context: GateContext, case: Path, folder: Path, names: tuple[str, ...]) -> GateResult:
        """A case that solves no velocity (heat conduction, a solid's displacement): its solution fields must
        be finite; the speed, direction and y+ checks have nothing to read."""
        files = [f"case/{folder.name}/{name}" for name in names]
        for name in names:
            try:
                values, boundary = _solution_values(case, folder, name)
            except FieldFormatError as error:
                return self.verdict("reject", [f"cannot read {name}: {error}"], evidence=context.digests(files))
            if values.size == 0:
                return self.verdict("reject", [f"{name} holds no values"], evidence=context.digests(files))
            if not np.all(np.isfinite(values)):
                return self.verdict("rerun", [f"{name} holds non-finite values"], evidence=context.digests(files))
            if broken := _non_finite_patches(boundary):
                reason = f"{name} on the boundary holds non-finite values (patches {broken})"
                return self.verdict("rerun", [reason], evidence=context.digests(files))
        reason = f"finite {', '.join(names)}; no velocity field, so no speed, direction or y+ check applies"
        return self.verdict("accept", [reason], evidence=context.digests(files))

    @staticmethod
    def _wall_yplus(case: Any, folder: Any, written: bool) -> tuple[np.ndarray, str]:
        """y+ on every wall face, or why it cannot be read (an empty reason when it was read)."""
        if not written:
            return np.array([]), f"y+ was not written (case/{folder.name}/yPlus)"
        values = []
        for name, patch in mesh_patches(case, folder).items():
            if patch.kind != "wall" or patch.size == 0:
                continue
            try:
                values.append(
                    np.atleast_1d(
                        read_patch_field(folder / "yPlus", name, n_faces=patch.size, within=case, expected=patch.size)
                    )
                )
            except FieldFormatError as error:
                return np.array([]), f"cannot read y+ on the wall patch {name!r}: {error}"
        if not values:
            return np.array([]), "the mesh has no wall faces to read y+ on"
        return np.concatenate(values), ""


def _solution_values(case: Path, folder: Path, name: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A solution field's cell values (as many as the mesh has cells, when it says) and its patch values,
    from one reading of the file."""
    path = folder / name
    text = read_field_text(path, within=case)
    cells = parse_internal_field(text, str(path), n_cells=1, expected=mesh_cell_count(case, folder))
    return cells, parse_boundary_values(text, str(path))


def _non_finite_patches(boundary: dict[str, np.ndarray]) -> str:
    """The patches (at most five named) whose values are not all finite; '' when none."""
    broken = [patch for patch, values in boundary.items() if not np.all(np.isfinite(values))]
    return ", ".join(broken[:5]) + (f" and {len(broken) - 5} more" if len(broken) > 5 else "")
