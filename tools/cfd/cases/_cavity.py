"""The lid-driven cavity: typed parameters and the OpenFOAM case they generate (icoFoam).

A square cavity of side L whose lid moves at U; Re = U L / nu. The case follows the classic
tutorial layout, with the mesh, viscosity, time step and sampling derived from the parameters.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.cfd.cases._roles import PHYSICS, numerics
from tools.cfd.openfoam._foamdict import Dimensioned, FoamValue, NamedList, Raw, Word, number, render_dict

CaseFiles = dict[str, str]

MIN_REYNOLDS = 1e-3
"""Smallest Reynolds number a case takes: below it the flow is creeping flow all the same, and nu = U L / Re
(with U and L up to 1000) grows past what the solver's matrices can hold."""
MIN_SPEED = 1e-6
"""Slowest velocity scale (m/s) a case takes: smaller ones make the derived viscosity underflow."""
MIN_LENGTH = 1e-6
"""Smallest length (m) a case takes: below it the cells' volumes underflow to zero."""
MAX_STEPS = 2_000_000
"""Most time steps one cavity run may take."""


def creeping_floor(value: float) -> float:
    """A positive Reynolds number below MIN_REYNOLDS is refused, naming the floor (pydantic's `gt=0` names 0)."""
    if 0 < value < MIN_REYNOLDS:
        raise ValueError(f"at least {MIN_REYNOLDS:g} (below it the derived viscosity overflows), not {value:g}")
    return value


class CavityParams(BaseModel):
    """What a cavity experiment may vary; everything else in the case follows from these."""

    model_config = ConfigDict(extra="forbid")

    # Lower bounds keep the derived viscosity, cell sizes and volumes ordinary doubles: below them
    # nu = U L / Re overflows or underflows to 0 and the mesh's cell volumes underflow.
    re: float = Field(default=100.0, gt=0, le=10_000, description="Reynolds number U L / nu", json_schema_extra=PHYSICS)
    cells: int = Field(
        default=64, ge=8, le=400, description="cells per side of the square mesh", json_schema_extra=numerics("more")
    )
    lid_velocity: float = Field(default=1.0, ge=MIN_SPEED, le=1000, description="U, m/s", json_schema_extra=PHYSICS)
    length: float = Field(default=0.1, ge=MIN_LENGTH, le=1000, description="L, m", json_schema_extra=PHYSICS)
    convective_times: float | None = Field(
        default=None,
        ge=1e-3,
        le=10_000,
        description="simulated time in units of L/U (default grows with Re; a tinier one rounds the end time to 0)",
        json_schema_extra=numerics("more", "simulated_convective_times"),
    )
    courant: float = Field(
        default=0.8,
        ge=1e-3,
        le=50,
        description="target Courant number U dt / dx",
        json_schema_extra=numerics("less", "requested_step"),
    )
    delta_t: float | None = Field(
        default=None,
        gt=0,
        description="time step, s (default from the Courant number)",
        json_schema_extra=numerics("less", "requested_step"),
    )
    snapshots: int = Field(
        default=5, ge=1, le=200, description="time directories written", json_schema_extra=numerics("more")
    )

    _re_floor = field_validator("re")(creeping_floor)

    @model_validator(mode="after")
    def _check_resolution(self) -> CavityParams:
        if self.delta_t is not None:
            self._check_delta_t(self.delta_t)
        step = self.requested_step  # a float: a step of 1e-320 s asks for more than any int, or underflows to 0
        wanted = self.end_time / step if step > 0 else math.inf
        if not wanted <= MAX_STEPS:
            count = f"{wanted:.3g}" if math.isfinite(wanted) else "more than 1e308"
            raise ValueError(
                f"{count} time steps requested (at most {MAX_STEPS:,}): raise delta_t or lower convective_times"
            )
        return self

    def _check_delta_t(self, delta_t: float) -> None:
        """A time step longer than one snapshot interval is refused, not silently shortened to it.

        The case writes `snapshots` time directories at exact steps, so it cannot step past a write. A
        step merely too long for the mesh is run as given: the solver-log gate judges the divergence.
        """
        interval = self.end_time / self.snapshots
        if delta_t > interval:
            raise ValueError(
                f"delta_t {delta_t:g} s is longer than one snapshot interval ({interval:g} s = end time "
                f"{self.end_time:g} s / {self.snapshots} snapshots); give at most {interval:g}"
            )

    @property
    def nu(self) -> float:
        return self.lid_velocity * self.length / self.re

    @property
    def simulated_convective_times(self) -> float:
        if self.convective_times is not None:
            return self.convective_times
        # Spin-up lengthens with Re. Measured with this case on 64-96 cells: the centreline error
        # against Ghia stops changing after ~10 L/U at Re 100, ~30 at Re 400 and ~40 at Re 1000;
        # the default leaves a margin of about 1.3-2x on each.
        return 20.0 + 30.0 * min(1.0, math.log10(max(self.re, 100.0) / 100.0))

    @property
    def end_time(self) -> float:
        return _round_sig(self.simulated_convective_times * self.length / self.lid_velocity)

    @property
    def requested_step(self) -> float:
        """The time step asked for: delta_t, else the one the target Courant number gives."""
        return self.delta_t or self.courant * (self.length / self.cells) / self.lid_velocity

    @property
    def steps(self) -> int:
        """Time steps, a multiple of `snapshots` so that every write lands exactly on a step."""
        step = self.requested_step
        per_snapshot = math.ceil(self.end_time / self.snapshots / step - 1e-9)
        return max(1, per_snapshot) * self.snapshots

    @property
    def time_step(self) -> float:
        return self.end_time / self.steps


def _round_sig(value: float, digits: int = 3) -> float:
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _vector(x: float, y: float, z: float) -> str:
    return f"({number(x)} {number(y)} {number(z)})"


def centreline_function(params: CavityParams, z: float) -> dict[str, FoamValue]:
    """The `centrelines` function object: u along x = L/2 and v along y = L/2, 129 points each, at depth z."""
    side = params.length
    mid = side / 2.0
    sets = NamedList(
        {
            "vertical": {
                "type": Word("uniform"),
                "axis": Word("y"),
                "start": Raw(_vector(mid, 0.0, z)),
                "end": Raw(_vector(mid, side, z)),
                "nPoints": 129,
            },
            "horizontal": {
                "type": Word("uniform"),
                "axis": Word("x"),
                "start": Raw(_vector(0.0, mid, z)),
                "end": Raw(_vector(side, mid, z)),
                "nPoints": 129,
            },
        }
    )
    return {
        "centrelines": {
            "type": Word("sets"),
            "libs": Raw('("libsampling.so")'),
            "writeControl": Word("writeTime"),
            "interpolationScheme": Word("cellPoint"),
            "setFormat": Word("raw"),
            "fields": Raw("(U p)"),
            "sets": sets,
        }
    }


def cavity_case(params: CavityParams) -> CaseFiles:
    """Every file of the case, keyed by its path relative to the case directory."""
    side, depth, n = params.length, params.length / 10.0, params.cells
    corners = [(0.0, 0.0), (side, 0.0), (side, side), (0.0, side)]
    vertices = [(x, y, 0.0) for x, y in corners] + [(x, y, depth) for x, y in corners]
    block_mesh = {
        "convertToMeters": 1,
        "vertices": Raw("\n(\n" + "\n".join(f"    {_vector(*v)}" for v in vertices) + "\n)"),
        "blocks": Raw(f"\n(\n    hex (0 1 2 3 4 5 6 7) ({n} {n} 1) simpleGrading (1 1 1)\n)"),
        "boundary": NamedList(
            {
                "movingWall": {"type": Word("wall"), "faces": Raw("((3 7 6 2))")},
                "fixedWalls": {"type": Word("wall"), "faces": Raw("((0 4 7 3) (2 6 5 1) (1 5 4 0))")},
                "frontAndBack": {"type": Word("empty"), "faces": Raw("((0 3 2 1) (4 5 6 7))")},
            }
        ),
    }
    control = {
        "application": Word("icoFoam"),
        "startFrom": Word("startTime"),
        "startTime": 0,
        "stopAt": Word("endTime"),
        "endTime": params.end_time,
        "deltaT": params.time_step,
        "writeControl": Word("timeStep"),
        "writeInterval": params.steps // params.snapshots,
        "purgeWrite": 0,
        "writeFormat": Word("ascii"),
        "writePrecision": 10,
        "writeCompression": Word("off"),
        "timeFormat": Word("general"),
        "timePrecision": 8,
        "runTimeModifiable": False,
        "InfoSwitches": {"allowSystemOperations": 0},
        "functions": centreline_function(params, depth / 2.0),
    }
    schemes = {
        "ddtSchemes": {"default": Word("Euler")},
        "gradSchemes": {"default": Raw("Gauss linear")},
        "divSchemes": {"default": Word("none"), "div(phi,U)": Raw("Gauss linear")},
        "laplacianSchemes": {"default": Raw("Gauss linear orthogonal")},
        "interpolationSchemes": {"default": Word("linear")},
        "snGradSchemes": {"default": Word("orthogonal")},
    }
    solution = {
        "solvers": {
            "p": {"solver": Word("PCG"), "preconditioner": Word("DIC"), "tolerance": 1e-06, "relTol": 0.05},
            "pFinal": {"solver": Word("PCG"), "preconditioner": Word("DIC"), "tolerance": 1e-06, "relTol": 0},
            "U": {
                "solver": Word("smoothSolver"),
                "smoother": Word("symGaussSeidel"),
                "tolerance": 1e-05,
                "relTol": 0,
            },
        },
        "PISO": {"nCorrectors": 2, "nNonOrthogonalCorrectors": 0, "pRefCell": 0, "pRefValue": 0},
    }
    u_field = {
        "dimensions": Raw("[0 1 -1 0 0 0 0]"),
        "internalField": Raw("uniform (0 0 0)"),
        "boundaryField": {
            "movingWall": {
                "type": Word("fixedValue"),
                "value": Raw(f"uniform ({number(params.lid_velocity)} 0 0)"),
            },
            "fixedWalls": {"type": Word("noSlip")},
            "frontAndBack": {"type": Word("empty")},
        },
    }
    p_field = {
        "dimensions": Raw("[0 2 -2 0 0 0 0]"),
        "internalField": Raw("uniform 0"),
        "boundaryField": {
            "movingWall": {"type": Word("zeroGradient")},
            "fixedWalls": {"type": Word("zeroGradient")},
            "frontAndBack": {"type": Word("empty")},
        },
    }
    transport = {"transportModel": Word("Newtonian"), "nu": Dimensioned((0, 2, -1, 0, 0, 0, 0), params.nu)}
    return {
        "system/blockMeshDict": render_dict("dictionary", "system", "blockMeshDict", block_mesh),
        "system/controlDict": render_dict("dictionary", "system", "controlDict", control),
        "system/fvSchemes": render_dict("dictionary", "system", "fvSchemes", schemes),
        "system/fvSolution": render_dict("dictionary", "system", "fvSolution", solution),
        "constant/transportProperties": render_dict("dictionary", "constant", "transportProperties", transport),
        "0/U": render_dict("volVectorField", "0", "U", u_field),
        "0/p": render_dict("volScalarField", "0", "p", p_field),
    }
