"""The vision gate: the figures and fields must look like the flow the task asked for.

Offline checks always run, on the images the harness rendered and on the raw fields: blank or flat
images, non-finite values, pressure checkerboarding (odd-even decoupling), reversed flow where the
flow must have none or none where it must have some, and broken mirror symmetry. When a vision
model is configured it also looks at the figures with the task's requirement and answers with a
structured verdict; the gate takes the worse of the two, and a model that gives no usable answer
leaves the result not accepted (`verifiers._vision_client.consult_vision`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from runs import Decision, GateResult, UntrustedFileError, UntrustedFileMissingError
from tools.cfd import (
    PRESSURES,
    FieldFormatError,
    FloatArray,
    latest_time,
    mesh_cell_count,
    read_internal_field,
)
from verifiers._deliverables import image_pixels, image_problem, visible_colour
from verifiers._gate import Gate, GateContext
from verifiers._options import GateOptions
from verifiers._vision_client import consult_vision
from verifiers.cfd._faces import MeshMismatchError, internal_faces
from verifiers.cfd._family import completed_case

FIGURE_MAX_BYTES = 32 << 20
"""The largest figure read to show a vision model (it is re-encoded smaller before it is sent)."""

_ORDER = {"accept": 0, "rerun": 1, "revise": 2, "reject": 3}


def blank_fraction(source: Path | bytes) -> float:
    """Share of the image that is pure white (what a plot with missing or NaN data leaves)."""
    colour = visible_colour(image_pixels(source))
    colour = colour if colour.ndim == 3 else colour[..., None]
    return float(np.mean(np.all(colour > 0.995, axis=-1)))


def checkerboard_index(case: Path, values: FloatArray, folder: Path | None = None) -> float:
    """How far cell values stray from the mean of their face neighbours, over the field's range.

    A smooth field stays within O(h^2) curvature of its neighbours' mean; an odd-even decoupled one
    swings by its own amplitude. Uses the owner/neighbour lists of the mesh the field of `folder` lives
    on (`mesh_folder`), so any mesh works; lists that do not fit the field (a label past its last cell,
    fewer owners than neighbours) are no mesh of this field and raise `MeshMismatchError`.
    """
    n = len(values)
    owner, neighbour = internal_faces(case, folder, n)
    sums = np.bincount(owner, weights=values[neighbour], minlength=n) + np.bincount(
        neighbour, weights=values[owner], minlength=n
    )
    counts = np.bincount(owner, minlength=n) + np.bincount(neighbour, minlength=n)
    mean = sums / np.maximum(counts, 1)
    low, high = np.percentile(values, [2, 98])
    spread = max(float(high - low), 1e-300)
    return float(np.percentile(np.abs(values - mean)[counts > 0], 90) / spread)


class VisionOptions(GateOptions):
    blank_max: float = Field(default=0.85, gt=0, le=1, description="white share of a field figure")
    checkerboard_max: float = Field(default=0.25, gt=0, description="odd-even index of the pressure field")
    reversed_min: float = Field(
        default=1e-3, gt=0, le=1, description="share of cells with reversed flow that counts as recirculation"
    )
    symmetry_max: float = Field(default=0.01, gt=0, description="largest mirror mismatch over U_ref")


class VisionGate(Gate):
    """Options: see `VisionOptions`."""

    name = "vision"
    Options = VisionOptions
    options: VisionOptions

    def check(self, context: GateContext) -> GateResult:
        found = completed_case(context, "look at")
        if isinstance(found, str):
            return self.verdict("reject", [found])
        definition, params = found
        options = self.options
        reasons: list[str] = []
        decision: Decision = "accept"
        metrics: dict[str, float] = {}

        def worse(new: Decision, reason: str) -> None:
            nonlocal decision
            reasons.append(reason)
            if _ORDER[new] > _ORDER[decision]:
                decision = new

        images = [item for item in context.outcome.files if item.kind == "image"]
        read: list[str] = []
        for item in images:
            try:
                picture = context.read_bytes(item.path)
            except UntrustedFileMissingError:
                worse("reject", f"figure {item.path} is missing")
                continue
            except UntrustedFileError as error:
                worse("reject", f"refused to read figure {item.path}: {error.reason}")
                continue
            read.append(item.path)
            problem = image_problem(picture)
            if problem:
                worse("rerun", f"figure {item.path} {problem}")
                continue
            if item.role != "field-figure":
                continue
            # Contour plots fill their axes; white beyond the margins means missing (NaN) regions.
            blank = blank_fraction(picture)
            metrics[f"blank_{Path(item.path).stem}"] = blank
            if blank > options.blank_max:
                worse("rerun", f"figure {item.path} is {100 * blank:.0f} % blank")
        if not images:
            worse("reject", "no figure was rendered to look at")

        case = context.path("case")
        latest = latest_time(case)
        if latest is None:
            worse("reject", "no time directory after 0: no field to check")
            return self.verdict(decision, reasons, evidence=context.digests(read), metrics=metrics)
        _, folder = latest
        solution = definition.case_solution(case, folder)
        if solution is None:
            worse("reject", f"case/{folder.name} holds no field the solver solved: no field to check")
            return self.verdict(decision, reasons, evidence=context.digests(read), metrics=metrics)
        try:
            cells = mesh_cell_count(case, folder)  # a field of another length is not this mesh's solution
            values = {
                name: read_internal_field(folder / name, n_cells=1, within=case, expected=cells)
                for name in solution.names
            }
            read += [f"case/{folder.name}/{name}" for name in solution.names]
        except FieldFormatError as error:
            worse("reject", f"cannot read the fields: {error}")
            return self.verdict(decision, reasons, evidence=context.digests(read), metrics=metrics)
        broken = [name for name, field in values.items() if not np.all(np.isfinite(field))]
        if broken:
            worse("rerun", f"the {' and '.join(broken)} field holds NaN or infinite values")
        else:
            velocity = values.get(solution.velocity) if solution.velocity is not None else None
            pressure = values.get(solution.scalar) if solution.scalar in PRESSURES else None
            self._field_checks(context, definition, params, case, folder, velocity, pressure, metrics, worse)
        if context.vision is not None:
            self._ask_model(context, definition, images, metrics, worse)
        else:
            metrics["vision_model_available"] = 0.0
        if decision == "accept":
            reasons.insert(0, f"{len(images)} figures and the {solution.describe()} fields pass the offline checks")
            if context.vision is None:
                reasons.append("no vision model configured: offline checks only")
        return self.verdict(decision, reasons, evidence=context.digests(read), metrics=metrics)

    def _field_checks(
        self,
        context: GateContext,
        definition: Any,
        params: Any,
        case: Path,
        folder: Path,
        velocity: FloatArray | None,
        pressure: FloatArray | None,
        metrics: dict[str, float],
        worse: Any,
    ) -> None:
        """Pressure checkerboarding, and the flow's direction, recirculation and symmetry: each where the
        case has the field it reads (a heat-conduction case has neither)."""
        options = self.options
        if velocity is None and pressure is None:
            return
        reference, _ = definition.run_reference_velocity(case, params)
        if pressure is not None:
            try:
                # A pressure field flat to round-off (a periodic channel) has no pattern to judge.
                flat = float(np.ptp(pressure)) < 1e-9 * reference * reference  # inf past 1e154, no OverflowError
                index = None if flat else checkerboard_index(case, pressure, folder)
            except MeshMismatchError as error:
                worse("reject", f"the pressure field cannot be checked for checkerboarding: {error}")
                index = None
            except FieldFormatError:
                index = None
            if index is not None:
                metrics["checkerboard_index"] = index
                if index > options.checkerboard_max:
                    worse("rerun", f"the pressure field is checkerboarded (odd-even index {index:.2f})")
        if velocity is None:
            return
        direction = np.asarray(definition.bulk_direction(params) or (1.0, 0.0, 0.0))
        along = velocity @ direction / reference
        reversed_share = float(np.mean(along < -1e-3))
        metrics["reversed_share"] = reversed_share
        expected = definition.recirculation
        threshold = options.reversed_min
        if expected == "required" and reversed_share < threshold:
            worse("revise", "no recirculation anywhere, but this flow must separate and recirculate")
        if expected == "forbidden" and reversed_share > 0:
            worse("revise", f"reversed flow in {100 * reversed_share:.2f} % of the cells, where none is possible")
        shape = definition.structured_shape(params)
        if definition.symmetric and shape is not None and len(velocity) == shape[0] * shape[1]:
            rows = velocity[:, 0].reshape(shape).mean(axis=1) / reference
            mismatch = float(np.max(np.abs(rows - rows[::-1])))
            metrics["symmetry_mismatch"] = mismatch
            if mismatch > options.symmetry_max:
                worse("revise", f"the flow is not mirror-symmetric about the mid-plane (mismatch {mismatch:.3g} U_ref)")

    def _ask_model(
        self, context: GateContext, definition: Any, images: list[Any], metrics: dict[str, float], worse: Any
    ) -> None:
        assert context.vision is not None
        expectations = {
            "required": "The flow must separate and show a recirculation region.",
            "forbidden": "The flow must show no reversed flow anywhere.",
        }.get(str(definition.recirculation), "")
        requirement = " ".join(
            part
            for part in (
                context.task.goal,
                expectations,
                "The flow is mirror-symmetric about the mid-plane." if definition.symmetric else "",
                "Judge whether the figures show a converged, physically plausible solution that meets this.",
            )
            if part
        )
        figures: list[bytes] = []
        for item in images:
            try:
                figures.append(context.read_bytes(item.path, max_bytes=FIGURE_MAX_BYTES))
            except UntrustedFileError:
                continue  # already a reason of the offline checks
        outcome = consult_vision(context.vision, requirement, figures)
        metrics["vision_model_available"] = 1.0 if outcome.answered else 0.0
        for reason in outcome.reasons:
            worse(outcome.decision, reason)
