"""The 2-D periodic hill (α = 1): geometry generated here, case files from typed parameters.

Hill shape: the piecewise cubic polynomials of the ERCOFTAC UFR 3-30 / Mellen, Fröhlich & Rodi (2000)
definition, in units of the hill height h (originally stated in millimetres for h = 28 mm). The domain
is 9h long and 3.036h high, periodic in x, driven by a momentum source that holds the bulk velocity.
Lengths are in units of h (h = 1 m) and the bulk velocity at the crest is 1 m/s, so nu = 1 / Re_h.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.cfd.cases._cavity import creeping_floor
from tools.cfd.cases._rans import (
    SACoefficients,
    TurbulenceModel,
    field_files,
    steady_control,
    steady_schemes,
    steady_solution,
    transport_properties,
    turbulence_properties,
)
from tools.cfd.cases._roles import PHYSICS, numerics
from tools.cfd.openfoam._blocks import geometric_ratio
from tools.cfd.openfoam._fields import FloatArray
from tools.cfd.openfoam._foamdict import NamedList, Raw, Word, number, render_dict

LENGTH = 9.0
HEIGHT = 3.036
_MM = 28.0  # the polynomials are written for h = 28 mm

# (upper bound in mm, coefficients of 1, x, x^2, x^3) for the windward half of the hill
_PIECES = (
    (9.0, (28.0, 0.0, 6.775070969851e-03, -2.124527775800e-03)),
    (14.0, (2.507355893131e01, 9.754803562315e-01, -1.016116352781e-01, 1.889794677828e-03)),
    (20.0, (2.579601052357e01, 8.206693007457e-01, -9.055370274339e-02, 1.626510569859e-03)),
    (30.0, (4.046435022819e01, -1.379581654948e00, 1.945884504128e-02, -2.070318932190e-04)),
    (40.0, (1.792461334664e01, 8.743920332081e-01, -5.567361123058e-02, 6.277731764683e-04)),
    (54.0, (5.639011190988e01, -2.010520359035e00, 1.644919857549e-02, 2.674976141766e-05)),
)


def hill_height(x: FloatArray | float) -> FloatArray:
    """Lower-wall height y/h at streamwise positions x/h in [0, 9] (the crest is at x = 0 and 9)."""
    xs = np.atleast_1d(np.asarray(x, dtype=np.float64)) * _MM
    xs = np.where(xs > LENGTH * _MM / 2, LENGTH * _MM - xs, xs)
    heights = np.zeros_like(xs)
    lower = 0.0
    for upper, (a, b, c, d) in _PIECES:
        inside = (xs >= lower) & (xs < upper)
        heights[inside] = a + b * xs[inside] + c * xs[inside] ** 2 + d * xs[inside] ** 3
        lower = upper
    return np.clip(heights, 0.0, _MM) / _MM


class HillParams(BaseModel):
    """What a periodic-hill experiment may vary."""

    model_config = ConfigDict(extra="forbid")

    re: float = Field(
        default=5600.0,
        gt=0,
        le=100_000,
        description="Re_h = Ub h / nu, Ub the bulk velocity at the crest",
        json_schema_extra=PHYSICS,
    )
    model: TurbulenceModel = Field(default="SpalartAllmaras", description="RANS closure", json_schema_extra=PHYSICS)
    sa: SACoefficients = Field(
        default_factory=SACoefficients, description="Spalart-Allmaras coefficients", json_schema_extra=PHYSICS
    )
    cells_x: int = Field(default=120, ge=20, le=800, json_schema_extra=numerics("more"))
    cells_y: int = Field(default=80, ge=16, le=600, json_schema_extra=numerics("more"))
    wall_cell: float = Field(
        default=0.002,
        ge=1e-6,
        lt=0.1,
        description="first cell height at the walls, units of h (a smaller one overflows the grading)",
        json_schema_extra=numerics("less"),
    )
    iterations: int = Field(
        default=4000, ge=10, le=100_000, description="SIMPLE iterations at most", json_schema_extra=numerics("more")
    )
    residual: float = Field(
        default=1e-5,
        gt=0,
        lt=1,
        description="stop once every initial residual is below this",
        json_schema_extra=numerics("less"),
    )
    relaxation: float = Field(default=0.9, gt=0, le=1, json_schema_extra=numerics("less"))

    _re_floor = field_validator("re")(creeping_floor)

    @model_validator(mode="after")
    def _check(self) -> HillParams:
        if self.model == "laminar":
            raise ValueError("model: the periodic hill at this Re needs a turbulence model, not 'laminar'")
        if self.wall_cell * self.cells_y > (HEIGHT - 1.0):
            raise ValueError(f"wall_cell {self.wall_cell:g} is too large for {self.cells_y} cells across the crest")
        return self

    @property
    def nu(self) -> float:
        return 1.0 / self.re


def bulk_to_volume_mean() -> float:
    """Volume-averaged streamwise velocity per unit crest bulk velocity: flux / mean channel height."""
    x = np.linspace(0.0, LENGTH, 4001)
    mean_height = HEIGHT - float(np.trapezoid(hill_height(x), x)) / LENGTH
    return (HEIGHT - 1.0) / mean_height


def hill_case(params: HillParams) -> dict[str, str]:
    depth = 0.1
    x = np.linspace(0.0, LENGTH, 401)
    y = hill_height(x)
    lower = " ".join(f"({number(float(a))} {number(float(b))} {{z}})" for a, b in zip(x[1:-1], y[1:-1], strict=True))
    vertices = [(0.0, 1.0, 0.0), (LENGTH, 1.0, 0.0), (LENGTH, HEIGHT, 0.0), (0.0, HEIGHT, 0.0)]
    vertices += [(vx, vy, depth) for vx, vy, _ in vertices]
    ratio = geometric_ratio(params.cells_y // 2, (HEIGHT - 1.0) / 2, params.wall_cell)
    grading = f"(1 ((0.5 0.5 {number(ratio)}) (0.5 0.5 {number(1.0 / ratio)})) 1)"
    block_mesh = {
        "convertToMeters": 1,
        "vertices": Raw(
            "\n(\n" + "\n".join(f"    ({number(a)} {number(b)} {number(c)})" for a, b, c in vertices) + "\n)"
        ),
        "blocks": Raw(
            f"\n(\n    hex (0 1 2 3 4 5 6 7) ({params.cells_x} {params.cells_y} 1) simpleGrading {grading}\n)"
        ),
        "edges": Raw(
            "\n(\n    polyLine 0 1 ("
            + lower.replace("{z}", "0")
            + ")\n    polyLine 4 5 ("
            + lower.replace("{z}", number(depth))
            + ")\n)"
        ),
        "boundary": NamedList(
            {
                "inlet": {"type": Word("cyclic"), "neighbourPatch": Word("outlet"), "faces": Raw("((0 4 7 3))")},
                "outlet": {"type": Word("cyclic"), "neighbourPatch": Word("inlet"), "faces": Raw("((1 2 6 5))")},
                "top": {"type": Word("wall"), "faces": Raw("((3 7 6 2))")},
                "hills": {"type": Word("wall"), "faces": Raw("((0 1 5 4))")},
                "frontAndBack": {"type": Word("empty"), "faces": Raw("((0 3 2 1) (4 5 6 7))")},
            }
        ),
    }
    patches = {"inlet": "cyclic", "outlet": "cyclic", "top": "wall", "hills": "wall", "frontAndBack": "empty"}
    nu = params.nu
    turbulence = {"k": 1e-3, "epsilon": 1e-4, "omega": 1.0, "nut": 0.0, "nuTilda": 3.0 * nu}
    volume_mean = bulk_to_volume_mean()
    fv_options = {
        "momentumSource": {
            "type": Word("meanVelocityForce"),
            "selectionMode": Word("all"),
            "fields": Raw("(U)"),
            "Ubar": Raw(f"({number(volume_mean)} 0 0)"),
        }
    }
    files = {
        "system/blockMeshDict": render_dict("dictionary", "system", "blockMeshDict", block_mesh),
        "system/controlDict": steady_control(
            iterations=params.iterations, write_interval=params.iterations, walls=("hills", "top")
        ),
        "system/fvSchemes": steady_schemes(params.model),
        "system/fvSolution": steady_solution(params.model, relaxation=params.relaxation, residual=params.residual),
        "system/fvOptions": render_dict("dictionary", "system", "fvOptions", fv_options),
        "constant/transportProperties": transport_properties(nu),
        "constant/turbulenceProperties": turbulence_properties(params.model, params.sa),
    }
    files.update(
        field_files(
            params.model,
            patches,
            velocity=(0.0, 0.0, 0.0),
            initial_velocity=(volume_mean, 0.0, 0.0),
            turbulence=turbulence,
        )
    )
    return files
