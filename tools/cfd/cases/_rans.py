"""Pieces every steady simpleFoam case shares: turbulence models, boundary conditions by patch kind,
schemes, solution controls and the function objects the gates read back.

A case family describes its patches by *kind* (wall, inlet, outlet, cyclic, empty, symmetry, slip);
the boundary conditions of every field follow from the kind and the turbulence model, so no case
writes a boundary condition by hand and no model can be left without one of its fields.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from tools.cfd.openfoam._foamdict import FoamValue, Raw, Word, number, render_dict

TurbulenceModel = Literal["laminar", "kEpsilon", "kOmegaSST", "SpalartAllmaras"]
TURBULENCE_MODELS: tuple[str, ...] = ("laminar", "kEpsilon", "kOmegaSST", "SpalartAllmaras")
PatchKind = Literal["wall", "inlet", "outlet", "cyclic", "empty", "symmetry", "slip"]


COMPILED: dict[str, Any] = {"compiled": True}
"""Marks a parameter whose value is code compiled into the solver (`compiled_params`)."""


def compiled_params(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The paths of `model`'s parameters marked COMPILED, nested models included.

    Such code runs inside every OpenFOAM program of the case, with their rights over the very files the
    gates read (fields, wall shear, logs): whoever may set it could write the evidence instead of the
    model. So it is the task's to give; a search writes it only through its own checks.
    """
    found: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        if field.json_schema_extra == COMPILED:
            found.append(path)
        for nested in _models_in(field.annotation):
            found += compiled_params(nested, path)
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in get_args(annotation) for model in _models_in(argument)]


class SACoefficients(BaseModel):
    """Spalart-Allmaras coefficients, named as OpenFOAM reads them; defaults are the calibrated values."""

    model_config = ConfigDict(extra="forbid")

    sigmaNut: float = Field(default=0.66666, gt=0.05, le=5.0)  # noqa: N815 (OpenFOAM's name)
    kappa: float = Field(default=0.41, gt=0.05, le=2.0)
    Cb1: float = Field(default=0.1355, gt=0.0, le=2.0)
    Cb2: float = Field(default=0.622, ge=0.0, le=5.0)
    Cw2: float = Field(default=0.3, ge=0.0, le=5.0)
    Cw3: float = Field(default=2.0, gt=0.0, le=20.0)
    Cv1: float = Field(default=7.1, gt=0.5, le=50.0)
    Cs: float = Field(default=0.3, ge=0.0, le=5.0)
    # The model-form correction (tools/cfd/models/SAcorrected.C): 1 + C F multiplies production,
    # destruction and the eddy viscosity, F the feature its switch selects (0 uniform, 1 shielding fd,
    # 2 strain share, 3 tanh(chi/featureScale), 4 1-exp(-d/(featureScale L)), L the case's length,
    # 5 fd exp(-chi/(50 featureScale)), 6 (1-exp(-d/(0.1 L))) exp(-chi/(50 featureScale)), 7 relaminarisation
    # (1-fd) tanh(max(0, -p+)/0.025)). All C at 0: plain SA.
    Cproduction: float = Field(default=0.0, ge=-0.9, le=5.0)
    Cdestruction: float = Field(default=0.0, ge=-0.9, le=5.0)
    Cfv1: float = Field(default=0.0, ge=-0.9, le=5.0)
    productionFeature: float = Field(default=0.0, ge=0, le=7, description="feature switch, rounded")  # noqa: N815
    destructionFeature: float = Field(default=0.0, ge=0, le=7, description="feature switch, rounded")  # noqa: N815
    fv1Feature: float = Field(default=0.0, ge=0, le=7, description="feature switch, rounded")  # noqa: N815
    featureScale: float = Field(default=1.0, gt=0, le=1000.0)  # noqa: N815
    source: str | None = Field(
        default=None,
        max_length=200_000,
        description="C++ of the corrected model (default: the built-in family)",
        json_schema_extra=COMPILED,
    )

    def is_default(self) -> bool:
        return self == SACoefficients()

    @property
    def corrected(self) -> bool:
        """Whether the compiled model is needed (a correction coefficient is set, or own C++ is given)."""
        return self.source is not None or any(
            getattr(self, name) != 0.0 for name in ("Cproduction", "Cdestruction", "Cfv1")
        )

    def openfoam_coefficients(self, reference_length: float = 1.0) -> dict[str, float | int]:
        """The model's coefficient dictionary: SA's own, plus the correction's when it is used.

        `reference_length` is the case's own length in metres (the hill or step height): the wall-distance
        feature's `featureScale` counts in it, so a form found on one case means the same on another.
        """
        values: dict[str, float | int] = {name: getattr(self, name) for name in SA_NAMES}
        if self.corrected:
            values.update({name: getattr(self, name) for name in ("Cproduction", "Cdestruction", "Cfv1")})
            values.update({name: round(getattr(self, name)) for name in FEATURE_SWITCHES})
            values["featureScale"] = self.featureScale
            values["referenceLength"] = reference_length
        return values


SA_NAMES = ("sigmaNut", "kappa", "Cb1", "Cb2", "Cw2", "Cw3", "Cv1", "Cs")
FEATURE_SWITCHES = ("productionFeature", "destructionFeature", "fv1Feature")
CORRECTED_MODEL = "SAcorrected"


class InletTurbulence(BaseModel):
    """Turbulence quantities at an inlet, from an intensity and a length scale (the usual estimate)."""

    model_config = ConfigDict(extra="forbid")

    intensity: float = Field(default=0.05, gt=0, le=0.5)
    length_scale: float = Field(default=0.01, gt=0, description="mixing length, m")

    def values(self, speed: float, nu: float) -> dict[str, float]:
        k = 1.5 * (speed * self.intensity) ** 2
        epsilon = 0.09**0.75 * k**1.5 / self.length_scale
        omega = k**0.5 / (0.09**0.25 * self.length_scale)
        return {"k": k, "epsilon": epsilon, "omega": omega, "nut": 0.09 * k * k / epsilon, "nuTilda": 3.0 * nu}


def model_fields(model: str) -> tuple[str, ...]:
    """The turbulence fields a model solves for (besides U and p)."""
    return {
        "laminar": (),
        "kEpsilon": ("k", "epsilon", "nut"),
        "kOmegaSST": ("k", "omega", "nut"),
        "SpalartAllmaras": ("nuTilda", "nut"),
    }[model]


_DIMENSIONS = {
    "U": "[0 1 -1 0 0 0 0]",
    "p": "[0 2 -2 0 0 0 0]",
    "k": "[0 2 -2 0 0 0 0]",
    "epsilon": "[0 2 -3 0 0 0 0]",
    "omega": "[0 0 -1 0 0 0 0]",
    "nut": "[0 2 -1 0 0 0 0]",
    "nuTilda": "[0 2 -1 0 0 0 0]",
}


def _uniform(value: float | tuple[float, float, float]) -> Raw:
    if isinstance(value, tuple):
        return Raw("uniform (" + " ".join(number(component) for component in value) + ")")
    return Raw(f"uniform {number(value)}")


def _patch_condition(
    field: str, kind: str, value: float | tuple[float, float, float], model: str
) -> dict[str, FoamValue]:
    """One field's boundary condition on one kind of patch."""
    if kind in ("cyclic", "empty"):
        return {"type": Word(kind)}
    if kind == "symmetry":
        return {"type": Word("symmetryPlane")}
    if kind == "slip":
        return {"type": Word("slip")} if field == "U" else {"type": Word("zeroGradient")}
    if field == "U":
        if kind == "wall":
            return {"type": Word("noSlip")}
        if kind == "inlet":
            return {"type": Word("fixedValue"), "value": _uniform(value)}
        return {"type": Word("inletOutlet"), "inletValue": Raw("uniform (0 0 0)"), "value": _uniform(value)}
    if field == "p":
        if kind == "outlet":
            return {"type": Word("fixedValue"), "value": Raw("uniform 0")}
        return {"type": Word("zeroGradient")}
    if kind == "inlet":
        return (
            {"type": Word("calculated"), "value": _uniform(value)}
            if field == "nut"
            else {"type": Word("fixedValue"), "value": _uniform(value)}
        )
    if kind == "outlet":
        if field == "nut":
            return {"type": Word("calculated"), "value": _uniform(value)}
        return {"type": Word("inletOutlet"), "inletValue": _uniform(value), "value": _uniform(value)}
    # Walls: wall functions for the k-based models, resolved walls for Spalart-Allmaras.
    wall = {
        "k": "kqRWallFunction",
        "epsilon": "epsilonWallFunction",
        "omega": "omegaWallFunction",
        "nut": "nutUSpaldingWallFunction" if model == "SpalartAllmaras" else "nutkWallFunction",
    }
    if field == "nuTilda":
        return {"type": Word("fixedValue"), "value": Raw("uniform 0")}
    return {"type": Word(wall[field]), "value": _uniform(value)}


def field_files(
    model: str,
    patches: dict[str, str],
    *,
    velocity: tuple[float, float, float],
    initial_velocity: tuple[float, float, float] | None = None,
    turbulence: dict[str, float] | None = None,
) -> dict[str, str]:
    """0/U, 0/p and the model's turbulence fields, boundary conditions following each patch's kind."""
    values: dict[str, float | tuple[float, float, float]] = {"U": velocity, "p": 0.0}
    values.update(turbulence or {})
    files = {}
    for field in ("U", "p", *model_fields(model)):
        value = values.get(field, 0.0)
        internal = initial_velocity if field == "U" and initial_velocity is not None else value
        body = {
            "dimensions": Raw(_DIMENSIONS[field]),
            "internalField": _uniform(internal),
            "boundaryField": {name: _patch_condition(field, kind, value, model) for name, kind in patches.items()},
        }
        foam_class = "volVectorField" if field == "U" else "volScalarField"
        files[f"0/{field}"] = render_dict(foam_class, "0", field, body)
    return files


def turbulence_properties(model: str, sa: SACoefficients | None = None, reference_length: float = 1.0) -> str:
    if model == "laminar":
        return render_dict("dictionary", "constant", "turbulenceProperties", {"simulationType": Word("laminar")})
    ras: dict[str, FoamValue] = {"RASModel": Word(model), "turbulence": True, "printCoeffs": True}
    if model == "SpalartAllmaras":
        coefficients = sa or SACoefficients()
        name = CORRECTED_MODEL if coefficients.corrected else model
        ras["RASModel"] = Word(name)
        ras[f"{name}Coeffs"] = dict(coefficients.openfoam_coefficients(reference_length))
    return render_dict("dictionary", "constant", "turbulenceProperties", {"simulationType": Word("RAS"), "RAS": ras})


def transport_properties(nu: float) -> str:
    return render_dict(
        "dictionary",
        "constant",
        "transportProperties",
        {"transportModel": Word("Newtonian"), "nu": Raw(f"[0 2 -1 0 0 0 0] {number(nu)}")},
    )


def steady_schemes(model: str, *, second_order: bool = True) -> str:
    convection = Raw("bounded Gauss linearUpwind grad(U)") if second_order else Raw("bounded Gauss upwind")
    div: dict[str, FoamValue] = {"default": Word("none"), "div(phi,U)": convection}
    for field in model_fields(model):
        if field != "nut":
            div[f"div(phi,{field})"] = Raw("bounded Gauss limitedLinear 1")
    div["div((nuEff*dev2(T(grad(U)))))"] = Raw("Gauss linear")
    return render_dict(
        "dictionary",
        "system",
        "fvSchemes",
        {
            "ddtSchemes": {"default": Word("steadyState")},
            "gradSchemes": {"default": Raw("Gauss linear")},
            "divSchemes": div,
            "laplacianSchemes": {"default": Raw("Gauss linear corrected")},
            "interpolationSchemes": {"default": Word("linear")},
            "snGradSchemes": {"default": Word("corrected")},
            "wallDist": {"method": Word("meshWave"), "nRequired": True},
        },
    )


def steady_solution(
    model: str, *, relaxation: float = 0.9, p_relaxation: float | None = None, residual: float = 1e-5
) -> str:
    """SIMPLEC (consistent) with residual control: the solver stops early once every field has settled."""
    turbulent = [f for f in model_fields(model) if f != "nut"]
    pattern = "(" + "|".join(["U", *turbulent]) + ")"
    solvers: dict[str, FoamValue] = {
        "p": {"solver": Word("GAMG"), "smoother": Word("GaussSeidel"), "tolerance": 1e-07, "relTol": 0.05},
        f'"{pattern}"': {
            "solver": Word("smoothSolver"),
            "smoother": Word("symGaussSeidel"),
            "tolerance": 1e-08,
            "relTol": 0.1,
        },
    }
    residual_control: dict[str, FoamValue] = {"p": residual, "U": residual}
    for field in turbulent:
        residual_control[field] = residual
    relax: dict[str, FoamValue] = {"equations": {"U": relaxation, '".*"': relaxation}}
    if p_relaxation is not None:
        relax["fields"] = {"p": p_relaxation}
    return render_dict(
        "dictionary",
        "system",
        "fvSolution",
        {
            "solvers": solvers,
            "SIMPLE": {
                "nNonOrthogonalCorrectors": 0,
                "consistent": True,
                "pRefCell": 0,
                "pRefValue": 0,
                "residualControl": residual_control,
            },
            "relaxationFactors": relax,
        },
    )


def steady_control(
    *, iterations: int, write_interval: int, walls: tuple[str, ...], extra: dict[str, FoamValue] | None = None
) -> str:
    """controlDict of a steady run; wall shear stress and y+ are written with every field."""
    functions: dict[str, FoamValue] = {}
    if walls:
        patch_list = Raw("(" + " ".join(walls) + ")")
        functions["wallShearStress"] = {
            "type": Word("wallShearStress"),
            "libs": Raw('("libfieldFunctionObjects.so")'),
            "patches": patch_list,
            "writeControl": Word("writeTime"),
        }
        functions["yPlus"] = {
            "type": Word("yPlus"),
            "libs": Raw('("libfieldFunctionObjects.so")'),
            "writeControl": Word("writeTime"),
        }
    functions.update(extra or {})
    return render_dict(
        "dictionary",
        "system",
        "controlDict",
        {
            "application": Word("simpleFoam"),
            "startFrom": Word("startTime"),
            "startTime": 0,
            "stopAt": Word("endTime"),
            "endTime": iterations,
            "deltaT": 1,
            "writeControl": Word("timeStep"),
            "writeInterval": write_interval,
            "purgeWrite": 0,
            "writeFormat": Word("ascii"),
            "writePrecision": 10,
            "writeCompression": Word("off"),
            "timeFormat": Word("general"),
            "timePrecision": 8,
            "runTimeModifiable": False,
            "InfoSwitches": {"allowSystemOperations": 0},
            "functions": functions,
        },
    )
