"""The deliverables gate: every promised output exists and carries information.

A figure that is one flat colour, a field that is uniform, or a table whose columns never
change is as useless as a missing file, so each kind of file gets a content check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from runs import GateResult
from tools.cfd import FieldFormatError, read_internal_field, read_xy
from verifiers._gate import Gate, GateContext, register_gate


def image_problem(path: Path) -> str | None:
    """Why an image is degenerate, or None when it shows something."""
    import matplotlib.image as mpimg

    try:
        pixels = np.asarray(mpimg.imread(path), dtype=np.float64)
    except (OSError, ValueError, SyntaxError) as error:
        return f"cannot be read as an image ({error})"
    if pixels.size == 0:
        return "has no pixels"
    colour = pixels[..., :3] if pixels.ndim == 3 else pixels
    if float(np.std(colour)) < 1e-3:
        return "is a single flat colour"
    return None


def field_problem(path: Path) -> str | None:
    try:
        values = read_internal_field(path, n_cells=1)
    except FieldFormatError as error:
        return str(error)
    if values.size == 0:
        return "is empty"
    if not np.all(np.isfinite(values)):
        return "contains non-finite values"
    if (values.ndim == 1 and values.size == 1) or float(np.max(np.ptp(np.atleast_2d(values.T), axis=-1))) == 0.0:
        return "is uniform (all cells hold the same value)"
    return None


def table_problem(path: Path) -> str | None:
    try:
        table = read_xy(path)
    except FieldFormatError as error:
        return str(error)
    if not np.all(np.isfinite(table)):
        return "contains non-finite values"
    if table.ndim != 2 or table.shape[0] < 2:
        return "has fewer than two rows"
    if table.shape[1] > 1 and not np.any(np.ptp(table[:, 1:], axis=0) > 0):
        return "has only constant data columns"
    return None


@register_gate
class DeliverablesGate(Gate):
    """Options: `required` — roles that must be present (on top of every file marked required)."""

    name = "deliverables"

    def check(self, context: GateContext) -> GateResult:
        outcome = context.outcome
        reasons: list[str] = []
        if outcome.status != "completed":
            reasons.append(f"the experiment did not complete: {outcome.error or 'unknown error'}")
        if "analysis_error" in outcome.info:
            reasons.append(f"post-processing failed: {outcome.info['analysis_error']}")
        roles = {item.role for item in outcome.files}
        for role in context.options.get("required", []):
            if role not in roles:
                reasons.append(f"required deliverable '{role}' was not produced")
        checked: list[str] = []
        for item in outcome.files:
            if not item.required:
                continue
            path = context.path(item.path)
            if not path.is_file():
                reasons.append(f"{item.role} ({item.path}) is missing")
                continue
            if path.stat().st_size == 0:
                reasons.append(f"{item.role} ({item.path}) is empty")
                continue
            checker = {"image": image_problem, "field": field_problem, "table": table_problem}.get(item.kind)
            problem = checker(path) if checker else None
            if problem:
                reasons.append(f"{item.role} ({item.path}) {problem}")
            checked.append(item.path)
        evidence = context.digests(checked)
        if reasons:
            return self.verdict("reject", reasons, evidence=evidence)
        return self.verdict("accept", [f"{len(checked)} deliverables present and non-degenerate"], evidence=evidence)
