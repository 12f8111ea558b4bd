"""labgate's own post-processing of a case solved elsewhere (what `agent check-case` runs on its copy).

A hand-run case may or may not have written wall shear stress, y+, cell centres or line samples, and
whatever it wrote was written by the user's function objects. The copy's controlDict is replaced by one
labgate writes (the user's time settings, labgate's function objects only, no libraries, no system
operations), the derived files the user left are removed, and the solver's `-postProcess` mode writes
them afresh at the latest time, inside the sandbox.
"""

from __future__ import annotations

from pathlib import Path

from runs import remove_untrusted_tree
from tools._workload import TaskError
from tools.cfd.cases._infer import read_case_dict
from tools.cfd.openfoam._commands import CaseStep
from tools.cfd.openfoam._foamdict import FoamValue, Raw, Word, number, render_dict
from tools.cfd.openfoam._foamread import FoamParseError, foam_number, foam_vector

POST_LOG = "log.labgatePostProcess"
DERIVED_FIELDS = ("C", "Cx", "Cy", "Cz", "wallShearStress", "yPlus")
"""Field files labgate's post-processing writes into the latest time directory."""
_TIME_FORMATS = ("general", "fixed", "scientific")


def wall_functions() -> dict[str, FoamValue]:
    """Wall shear stress and y+ on every wall patch."""
    return {
        name: {"type": Word(name), "libs": Raw('("libfieldFunctionObjects.so")'), "writeControl": Word("writeTime")}
        for name in ("wallShearStress", "yPlus")
    }


def cell_centres_function() -> dict[str, FoamValue]:
    return {
        "cellCentres": {
            "type": Word("writeCellCentres"),
            "libs": Raw('("libfieldFunctionObjects.so")'),
            "writeControl": Word("writeTime"),
        }
    }


def mesh_middle(case: Path) -> tuple[float, float, float]:
    """Centre of the bounding box of system/blockMeshDict's vertices, in metres (where sample lines go)."""
    mesh = read_case_dict(case, "system/blockMeshDict")
    try:
        scale = foam_number(mesh.get("scale", mesh.get("convertToMeters", 1)))  # blockMesh prefers `scale`
        vertices = [foam_vector(vertex) for vertex in mesh.get("vertices", []) if isinstance(vertex, list)]
    except FoamParseError as error:
        raise TaskError(f"system/blockMeshDict: {error}") from None
    if not vertices or any(len(vertex) != 3 for vertex in vertices):
        raise TaskError("system/blockMeshDict has no list of (x y z) vertices")
    middle = [scale * (min(v[k] for v in vertices) + max(v[k] for v in vertices)) / 2 for k in range(3)]
    return middle[0], middle[1], middle[2]


def post_control(case: Path, application: str, functions: dict[str, FoamValue]) -> str:
    """labgate's controlDict for post-processing the copy: the user's time settings, labgate's functions."""
    control = read_case_dict(case, "system/controlDict")
    times: dict[str, FoamValue] = {}
    for name, default in (("startTime", 0.0), ("endTime", 1.0), ("deltaT", 1.0)):
        try:
            times[name] = foam_number(control.get(name, default))
        except FoamParseError:
            raise TaskError(f"system/controlDict has no numeric {name}") from None
    time_format = str(control.get("timeFormat", "general"))
    try:
        time_precision = int(foam_number(control.get("timePrecision", 6)))
    except FoamParseError:
        time_precision = 6
    return render_dict(
        "dictionary",
        "system",
        "controlDict",
        {
            "application": Word(application),
            "startFrom": Word("latestTime"),
            "startTime": Raw(number(float(times["startTime"]))),
            "stopAt": Word("endTime"),
            "endTime": Raw(number(float(times["endTime"]))),
            "deltaT": Raw(number(float(times["deltaT"]))),
            "writeControl": Word("timeStep"),
            "writeInterval": 1,
            "purgeWrite": 0,
            "writeFormat": Word("ascii"),
            "writePrecision": 10,
            "writeCompression": Word("off"),
            "timeFormat": Word(time_format if time_format in _TIME_FORMATS else "general"),
            "timePrecision": max(1, min(time_precision, 18)),
            "runTimeModifiable": False,
            "InfoSwitches": {"allowSystemOperations": 0},
            "functions": {**functions, **cell_centres_function()},
        },
    )


def prepare_post_processing(case: Path, latest: Path, application: str, functions: dict[str, FoamValue]) -> CaseStep:
    """Write labgate's controlDict into the copy, remove what the user's post-processing left, return the step."""
    text = post_control(case, application, functions)
    for name in DERIVED_FIELDS:
        remove_untrusted_tree(latest / name)
    for name in functions:
        remove_untrusted_tree(case / "postProcessing" / name)
    remove_untrusted_tree(case / "system" / "controlDict")
    (case / "system" / "controlDict").write_text(text)
    return CaseStep("post-process", (application, "-postProcess", "-latestTime"), POST_LOG)
