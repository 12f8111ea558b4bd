"""Reading a case's parameters back from its own dictionaries (what `agent check-case` starts from)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tools._workload import TaskError
from tools.cfd.cases._rans import CORRECTED_MODEL
from tools.cfd.openfoam._foamread import FoamDict, FoamParseError, foam_number, foam_vector, read_foam_dict


def read_case_dict(case: Path, relative: str) -> FoamDict:
    try:
        return read_foam_dict(case / relative, within=case)
    except FoamParseError as error:
        raise TaskError(f"cannot read {relative} of the case: {error}") from None


def viscosity(case: Path) -> float:
    transport = read_case_dict(case, "constant/transportProperties")
    if "nu" not in transport:
        raise TaskError("constant/transportProperties has no 'nu' entry")
    try:
        nu = foam_number(transport["nu"])
    except FoamParseError as error:
        raise TaskError(f"constant/transportProperties: nu {error}") from None
    if not 0 < nu < math.inf:
        raise TaskError(f"constant/transportProperties: nu must be a positive finite number, not {nu:g}")
    return nu


def end_time(case: Path) -> float:
    control = read_case_dict(case, "system/controlDict")
    try:
        return foam_number(control.get("endTime"))
    except FoamParseError:
        raise TaskError("system/controlDict has no numeric endTime") from None


def block_cells(case: Path) -> list[tuple[int, int, int]]:
    """Cells of every block of system/blockMeshDict, in order."""
    mesh = read_case_dict(case, "system/blockMeshDict")
    blocks = mesh.get("blocks")
    if not isinstance(blocks, list):
        raise TaskError("system/blockMeshDict has no blocks list")
    found = []
    for index, item in enumerate(blocks):
        if item == "hex" and index + 2 < len(blocks) and isinstance(blocks[index + 2], list):
            counts = blocks[index + 2]
            try:
                found.append((int(counts[0]), int(counts[1]), int(counts[2])))
            except (ValueError, IndexError):
                raise TaskError(f"system/blockMeshDict: cannot read cell counts {counts!r}") from None
    if not found:
        raise TaskError("system/blockMeshDict defines no hex block")
    return found


def turbulence(case: Path) -> tuple[str, dict[str, Any]]:
    """(model, coefficients given in the case) from constant/turbulenceProperties."""
    try:
        props = read_foam_dict(case / "constant" / "turbulenceProperties", within=case)
    except FoamParseError:
        return "laminar", {}
    if props.get("simulationType") != "RAS":
        return "laminar", {}
    ras = props.get("RAS", {})
    model = str(ras.get("RASModel", ""))
    coefficients = ras.get(f"{model}Coeffs", {})
    if model == CORRECTED_MODEL:  # Spalart-Allmaras whose correction is in its coefficients (rebuilt as such)
        model = "SpalartAllmaras"
    return model, {key: float(value) for key, value in coefficients.items() if _is_number(value)}


def patch_value(case: Path, field: str, patch: str) -> tuple[float, ...]:
    body = read_case_dict(case, f"0/{field}")
    boundary = body.get("boundaryField", {})
    entry = boundary.get(patch) if isinstance(boundary, dict) else None
    if not isinstance(entry, dict) or "value" not in entry:
        raise TaskError(f"0/{field} gives no value on patch {patch!r}")
    try:
        value = foam_vector(entry["value"])
    except FoamParseError as error:
        raise TaskError(f"0/{field} on {patch}: {error}") from None
    if not value:
        raise TaskError(f"0/{field} on {patch}: the value is empty")
    return value


def mean_velocity_force(case: Path) -> float | None:
    """The Ubar of a meanVelocityForce source in system/fvOptions (or constant/fvOptions)."""
    for relative in ("system/fvOptions", "constant/fvOptions"):
        try:
            options = read_foam_dict(case / relative, within=case)
        except FoamParseError:
            continue
        for entry in options.values():
            if isinstance(entry, dict) and entry.get("type") == "meanVelocityForce":
                try:
                    return foam_vector(entry.get("Ubar"))[0]
                except FoamParseError:
                    raise TaskError(f"{relative}: meanVelocityForce has no readable Ubar") from None
    return None


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
