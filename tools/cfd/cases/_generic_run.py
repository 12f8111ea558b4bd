"""Re-running a user's OpenFOAM case in the sandbox, or adopting one they ran, for `cfd/case`.

Re-run (`agent run cfd/case --param case_dir=PATH`): the case is copied without its results, its code
refused (`_generic_control.refuse_code`), its controlDict replaced by labgate's, and run in the
sandbox: the mesh from `system/blockMeshDict` (cell counts scaled for a finer mesh), then
`snappyHexMesh` when its dictionary exists, else the `constant/polyMesh` given (one `refineMesh`
pass for a finer mesh); initial fields from `0.orig/` or `0/<field>.orig` where the case keeps them
there for its Allrun to copy; `topoSet` and `setFields` when their dictionaries exist; then the solver
the controlDict names. A finer mesh than the case's own never starts from fields given cell by cell
(`_start_state`). labgate's own function objects write cell centres and volumes at the end.

Adopt (`agent check cfd/case PATH`): the copy keeps its results; a decomposed case is reconstructed
(`reconstructPar -latestTime`), the latest time converted to uncompressed ASCII
(`foamFormatConvert`, so binary, compressed and any precision read the same), and the solver's
`-postProcess` mode runs labgate's function objects on it. The user's files are only read.
"""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import time
from pathlib import Path
from typing import Any

from runs import (
    ExperimentSpec,
    TaskSpec,
    UntrustedFileError,
    copy_untrusted_tree,
    read_untrusted_path_text,
    remove_untrusted_tree,
    untrusted_kind,
    write_untrusted_text,
)
from sandboxes import Limits, Sandbox
from tools._workload import ExperimentOutcome, OutputFile, SandboxFactory, TaskError
from tools.cfd.cases._case_inputs import RESULTS, inputs_digest, with_reference
from tools.cfd.cases._generic import REFERENCE_COPY, UserCase, UserCaseParams
from tools.cfd.cases._generic_control import (
    application,
    post_control,
    read_control,
    scale_block_counts,
    secure_case,
    solve_control,
    stripped,
)
from tools.cfd.cases._own_fields import CENTRE_FIELDS, VOLUME_FIELD, own_fields
from tools.cfd.cases._start_state import given_start_fields, refusal, start_from_originals
from tools.cfd.openfoam._commands import CaseStep, OpenFOAMConfig, StepOutcome, run_steps
from tools.cfd.openfoam._fields import FieldFormatError, latest_time, numbered_directories
from tools.cfd.openfoam._foamdict import FoamValue, Raw, Word
from tools.cfd.openfoam._foamread import MAX_DICT_BYTES, FoamParseError, foam_number, read_foam_dict
from tools.cfd.openfoam._logs import MAX_LOG_BYTES, SolverLog, parse_solver_log, read_solver_log

POST_LOG = "log.labgatePostProcess"
DERIVED_FIELDS = (*CENTRE_FIELDS, VOLUME_FIELD, "wallShearStress", "yPlus")
"""Fields labgate's own post-processing writes into a result's latest time (removed from an adopted case first)."""
_DECOMPOSED_LINK = re.compile(r"^processor\d+/[^/]+/uniform: a symbolic link")


_LIBRARY = Raw('("libfieldFunctionObjects.so")')


def labgate_functions(case: Path) -> dict[str, FoamValue]:
    """Cell centres and volumes: what the independent reader needs, written with every result.

    OpenFOAM names them `C` (and `Cx`, `Cy`, `Cz`) and `V` whatever the case's own fields are called, so
    they would overwrite a field of the case of the same name (financialFoam solves for `V`): volumes are
    then not written (the monitor goes unweighted), and a case with a field named like the centres is
    refused, naming it, before anything runs."""
    own = own_fields(case)
    clash = sorted(own & set(CENTRE_FIELDS))
    if clash:
        raise TaskError(
            f"the case has a field named {clash[0]!r}: OpenFOAM's writeCellCentres, which writes the cell "
            f"centres labgate reads, would overwrite it at every written time; rename the field"
        )
    functions: dict[str, FoamValue] = {
        "labgateCentres": {"type": Word("writeCellCentres"), "libs": _LIBRARY, "writeControl": Word("writeTime")}
    }
    if VOLUME_FIELD not in own:
        functions["labgateVolumes"] = {
            "type": Word("writeCellVolumes"),
            "libs": _LIBRARY,
            "writeControl": Word("writeTime"),
        }
    return functions


def wall_functions(case: Path) -> dict[str, FoamValue]:
    """y+ and wall shear stress when the case has a RAS or LES turbulence model (the solver's own models
    compute them). Run apart from the solve and the essential post-processing (`wall_post_processing`):
    a solver that keeps its turbulence models under other names (driftFluxFoam, the multiphase mixture
    solvers) cannot give them, and that must not stop the run."""
    turbulence = ""
    for name in ("turbulenceProperties", "momentumTransport"):
        with contextlib.suppress(UntrustedFileError):  # missing, or refused (a link, a special file, too large)
            turbulence = read_untrusted_path_text(case / "constant" / name, within=case, max_bytes=MAX_DICT_BYTES)
    if not re.search(r"^\s*simulationType\s+(RAS|LES)\s*;", turbulence, re.MULTILINE):
        return {}
    return {name: {"type": Word(name), "libs": _LIBRARY, "writeControl": Word("writeTime")} for name in _WALLS}


_WALLS = ("yPlus", "wallShearStress")
WALL_LOG = "log.labgateWallFunctions"


def wall_post_processing(
    sandbox: Sandbox,
    case: Path,
    control: dict[str, Any],
    solver: str,
    openfoam: OpenFOAMConfig,
    *,
    after: list[StepOutcome],
    restore: str,
    deadline: float,
    limits: Limits,
) -> str | None:
    """Write y+ and wall shear stress at the latest time with the solver's `-postProcess`; why not, or None.

    Only after the steps `after` all succeeded, within the experiment's `deadline` (monotonic). `restore`,
    the controlDict labgate wrote for the run, is put back after, so what the gates read of it is the
    run's own (written again from labgate's text, never read back from the case)."""
    functions = wall_functions(case)
    if not functions or not all(o.returncode == 0 and not o.timed_out for o in after):
        return None
    timeout = deadline - time.monotonic()
    if timeout <= 0:
        return "y+ and wall shear stress not written: no time left in the experiment's budget"
    _write(case, "system/controlDict", post_control(control, solver, functions))
    try:
        step = CaseStep("wall-functions", (solver, "-postProcess", "-latestTime"), WALL_LOG)
        outcome = run_steps(sandbox, [step], openfoam, timeout=timeout, limits=limits)[0]
    finally:
        _write(case, "system/controlDict", restore)
    if outcome.timed_out or outcome.returncode != 0:
        return f"y+ and wall shear stress not written: the solver's -postProcess failed{_fatal(case, WALL_LOG)}"
    return None


def _copy(source: Path, case: Path, skip: tuple[str, ...]) -> list[str]:
    remove_untrusted_tree(case)
    try:
        return copy_untrusted_tree(source, case, max_file_bytes=MAX_LOG_BYTES, skip=skip)
    except UntrustedFileError as error:
        raise TaskError(f"cannot copy the case: {error}") from None


def _write(case: Path, relative: str, text: str) -> None:
    """Replace a file of the case, which the sandbox may have rearranged: no link on the way is followed."""
    try:
        write_untrusted_text(case, relative, text)
    except UntrustedFileError as error:
        raise TaskError(f"cannot write the case's {relative}: {error.reason}") from None


def _mesh_steps(case: Path, factor: float) -> list[CaseStep]:
    """Mesh generation for a re-run, at `factor` times the case's resolution."""
    steps: list[CaseStep] = []
    block = case / "system" / "blockMeshDict"
    snappy = (case / "system" / "snappyHexMeshDict").is_file()
    refine_after = factor > 1.0
    if block.is_file():
        remove_untrusted_tree(case / "constant" / "polyMesh")
        if factor > 1.0 and not snappy:
            scaled = scale_block_counts(block.read_text(errors="replace"), factor)
            if scaled is not None:
                _write(case, "system/blockMeshDict", scaled)
                refine_after = False
        steps.append(CaseStep("mesh", ("blockMesh",), "log.blockMesh"))
    elif not (case / "constant" / "polyMesh").is_dir():
        raise TaskError("the case has no system/blockMeshDict and no constant/polyMesh: no mesh to run on")
    if snappy:
        for name, utility in (
            ("surfaceFeatureExtractDict", "surfaceFeatureExtract"),
            ("surfaceFeaturesDict", "surfaceFeatures"),
        ):
            if (case / "system" / name).is_file():
                steps.append(CaseStep("features", (utility,), f"log.{utility}"))
        steps.append(CaseStep("snappy", ("snappyHexMesh", "-overwrite"), "log.snappyHexMesh"))
    if refine_after:
        # Each refineMesh pass halves every cell (in the mesh's 2 or 3 directions). `-all`, because without it
        # refineMesh obeys a refineMeshDict in the case, which may name any set of cells, one among them.
        for index in range(max(1, round(math.log2(factor)))):
            argv = ("refineMesh", "-all", "-overwrite")
            steps.append(CaseStep(f"refine-{index + 1}", argv, f"log.refineMesh.{index + 1}"))
    for name, utility in (("topoSetDict", "topoSet"), ("setFieldsDict", "setFields")):
        if (case / "system" / name).is_file():
            steps.append(CaseStep(utility, (utility,), f"log.{utility}"))
    return steps


def _start_only(case: Path) -> Path:
    """Remove every time directory but the first (the initial conditions) from the copy; returns that one."""
    times = numbered_directories(case)
    if not times and (case / "0.orig").is_dir() and not (case / "0.orig").is_symlink():
        # Many tutorials keep their initial fields in 0.orig and let Allrun copy them; labgate does that itself.
        shutil.copytree(case / "0.orig", case / "0", symlinks=True)
        times = numbered_directories(case)
    if not times:
        raise TaskError("the case has no initial time directory (0/ or 0.orig/)")
    start = _start_folder(case, times)
    for _, folder in times:
        if folder != start:
            remove_untrusted_tree(folder)
    _one_mesh_in_constant(case, start)
    _restore_original_fields(start)
    start_from_originals(case, start)
    return start


def _start_folder(case: Path, times: list[tuple[float, Path]]) -> Path:
    """The time folder the solver starts from: the controlDict's `startTime` where a folder holds it (the
    solver's own `startFrom startTime`), else the earliest. A `-1/` left beside `0/` was kept as the earliest
    and `0/` removed, and the reproduction failed on a missing `0/p` the case had."""
    try:
        control = read_foam_dict(case / "system" / "controlDict", within=case)
        start_time = foam_number(control.get("startTime", times[0][0]))
    except (FoamParseError, ValueError, TypeError):
        return times[0][1]
    chosen = [folder for value, folder in times if math.isclose(value, start_time, rel_tol=1e-9, abs_tol=1e-12)]
    return chosen[0] if chosen else times[0][1]


def _one_mesh_in_constant(case: Path, start: Path) -> None:
    """Leave the case one mesh, in `constant/polyMesh`, the place labgate meshes, refines and counts.

    OpenFOAM reads the mesh of the start time's folder before `constant/`'s: a `0/polyMesh` kept in the
    case was what both the original and the refined run solved on, while blockMesh and refineMesh changed
    only `constant/polyMesh`, so the mesh-independence check compared a mesh with itself. Where the case
    meshes itself (a blockMeshDict) the start folder's mesh is an earlier run's output and goes; where it
    is the only mesh it moves to `constant/`; beside another mesh in `constant/`, which one the case means
    cannot be told, and it is refused.
    """
    kind = untrusted_kind(case, f"{start.name}/polyMesh")
    if kind is None:
        return
    if kind != "dir":
        raise TaskError(f"the case's {start.name}/polyMesh is not a folder: a mesh there cannot be read or refined")
    if (case / "system" / "blockMeshDict").is_file():
        remove_untrusted_tree(start / "polyMesh")
    elif untrusted_kind(case, "constant/polyMesh") is None and untrusted_kind(case, "constant") in (None, "dir"):
        (case / "constant").mkdir(exist_ok=True)
        (start / "polyMesh").rename(case / "constant" / "polyMesh")
    else:
        raise TaskError(
            f"the case holds a mesh in both {start.name}/polyMesh and constant/polyMesh: OpenFOAM would solve on "
            f"the first and labgate refines the second; keep the mesh in constant/polyMesh only"
        )


def _restore_original_fields(folder: Path) -> None:
    """`T` from `T.orig` (and `T.gz` from `T.orig.gz`) where only the original is there: the other
    convention of tutorials whose Allrun copies single fields back (`cp 0/T.orig 0/T`) before setFields."""
    for original in sorted(folder.iterdir()):
        name = original.name
        field = name.replace(".orig", "", 1) if name.endswith((".orig", ".orig.gz")) else None
        if field is None or not field or original.is_symlink() or not original.is_file():
            continue
        if not (folder / field).exists() and not (folder / field).is_symlink():
            shutil.copyfile(original, folder / field)


def _find_solver_log(case: Path, solver: str) -> None:
    """Name the copy's solver log `log.<solver>`: a log saved under another name (`log`, `run.log`...)
    is recognised by OpenFOAM's banner line `Exec   : <solver>`."""
    if (case / f"log.{solver}").is_file():
        return
    banner = re.compile(rf"^Exec\s*:\s*{solver}\b", re.MULTILINE)
    for path in sorted(case.iterdir()):
        if not path.is_file() or path.is_symlink() or "log" not in path.name.lower():
            continue
        with path.open("rb") as handle:
            head = handle.read(8192).decode(errors="replace")
        if banner.search(head):
            shutil.copyfile(path, case / f"log.{solver}")
            return


def _info(solver: str, outcomes: list[StepOutcome], source: Path, notes: list[str], inputs: str) -> dict[str, Any]:
    return {
        "case": "case",
        "application": solver,
        "solver_log": f"case/log.{solver}",
        "source": str(source),
        "inputs_digest": inputs,
        "not_run": notes,
        "steps": [
            {"name": o.name, "returncode": o.returncode, "seconds": round(o.seconds, 3), "timed_out": o.timed_out}
            for o in outcomes
        ],
    }


def _read_log(case: Path, name: str) -> tuple[SolverLog, list[str]]:
    try:
        return read_solver_log(case / name, within=case), []
    except UntrustedFileError as error:
        return SolverLog(), [f"case/{error.path}: {error.reason}"]


def _fatal(case: Path, log: str) -> str:
    try:
        text = read_untrusted_path_text(case / log, within=case, max_bytes=MAX_LOG_BYTES)
    except UntrustedFileError:
        return ""
    fatal = parse_solver_log(text).fatal
    return f": {fatal[0][:300]}" if fatal else ""


def _finish(
    definition: UserCase,
    case: Path,
    directory: Path,
    params: UserCaseParams,
    key: str,
    info: dict[str, Any],
    outcomes: list[StepOutcome],
    refused: list[str],
    what: str,
) -> ExperimentOutcome:
    solver = str(info["application"])
    log, unread = _read_log(case, f"log.{solver}")
    refused += [item for item in unread if item not in refused]
    files = [OutputFile(path=f"case/log.{solver}", kind="log", role="solver-log")]
    files += [OutputFile(path=f"case/{o.log}", kind="log", role=f"log:{o.name}", required=False) for o in outcomes]
    failed = next((o for o in outcomes if o.timed_out or o.returncode != 0), None)
    if failed is not None:
        reason = f"{what}: {failed.name} " + (
            "timed out" if failed.timed_out else f"exited with code {failed.returncode}"
        )
        reason += _fatal(case, failed.log)
        if not reason.endswith(")") and log.non_finite:
            reason += " (the solution became non-finite: diverged)"
        return ExperimentOutcome(key=key, status="error", error=reason, files=files, info=info, refused=refused)
    try:
        metrics, figures = definition.analyse(case, directory, params, log)
    except (FieldFormatError, ValueError, OSError, RuntimeError) as error:
        # RuntimeError: a geometry no triangulation takes (qhull); the gates then name what is missing.
        info["analysis_error"] = f"{type(error).__name__}: {error}"
        metrics, figures = {}, []
    if (directory / REFERENCE_COPY).is_file():  # `analyse` copies it first: part of what the run was given
        info["inputs_digest"] = with_reference(str(info["inputs_digest"]), directory / REFERENCE_COPY)
    if "analysis_error" in info:
        return ExperimentOutcome(key=key, status="completed", files=files, info=info, refused=refused)
    return ExperimentOutcome(
        key=key, status="completed", metrics=metrics, files=files + figures, info=info, refused=refused
    )


def run_user_case(
    definition: UserCase,
    openfoam: OpenFOAMConfig,
    limits: Limits,
    task: TaskSpec,
    experiment: ExperimentSpec,
    directory: Path,
    sandbox_factory: SandboxFactory,
) -> ExperimentOutcome:
    """Re-run the user's case from its initial conditions (see the module doc)."""
    params = definition.parse(experiment.params, task.id)
    if params.case_dir is None:
        raise TaskError("cfd/case needs the case directory: --param case_dir=/path/to/case")
    source = Path(params.case_dir)
    case = directory / "case"
    refused = [f"case/{item}" for item in _copy(source, case, skip=RESULTS)]
    inputs = inputs_digest(case)
    secure_case(case)
    control = read_control(case)
    solver = application(control, openfoam.bin_dir)
    notes = stripped(control)
    start = _start_only(case)
    if params.mesh_factor > 1 and (given := given_start_fields(case, start)):
        return ExperimentOutcome(key=experiment.key, status="error", error=refusal(start, given), refused=refused)
    steps = _mesh_steps(case, params.mesh_factor)
    text, _ = solve_control(control, solver, end_time=params.end_time, functions=labgate_functions(case))
    _write(case, "system/controlDict", text)
    steps.append(CaseStep("solve", (solver,), f"log.{solver}"))
    deadline = time.monotonic() + task.budget.experiment_seconds
    sandbox = sandbox_factory(case)
    try:
        outcomes = run_steps(sandbox, steps, openfoam, timeout=task.budget.experiment_seconds, limits=limits)
        walls = wall_post_processing(
            sandbox, case, control, solver, openfoam, after=outcomes, restore=text, deadline=deadline, limits=limits
        )
    finally:
        sandbox.close()
    info = _info(solver, outcomes, source, notes, inputs)
    if walls:
        info["wall_functions"] = walls
    info["mesh_factor"] = params.mesh_factor
    return _finish(definition, case, directory, params, experiment.key, info, outcomes, refused, "the re-run")


def adopt_user_case(
    definition: UserCase,
    openfoam: OpenFOAMConfig,
    limits: Limits,
    task: TaskSpec,
    source: Path,
    directory: Path,
    sandbox_factory: SandboxFactory,
) -> tuple[ExperimentSpec, ExperimentOutcome]:
    """Judge a case the user ran: post-process a copy with labgate's own function objects (module doc)."""
    if not (source / "system" / "controlDict").is_file():
        raise TaskError(f"{source} is not an OpenFOAM case (no system/controlDict)")
    params_dict = {**task.params, "case": "case", "case_dir": str(source)}
    params = definition.parse(params_dict, task.id)
    case = directory / "case"
    copied = _copy(source, case, skip=("dynamicCode",))
    inputs = inputs_digest(case)
    # decomposePar links each processor's time/uniform to the case's own: not copied, and not needed.
    refused = [f"case/{item}" for item in copied if not _DECOMPOSED_LINK.match(item)]
    secure_case(case)
    control = read_control(case)
    solver = application(control, openfoam.bin_dir)
    notes = stripped(control)
    _find_solver_log(case, solver)
    steps: list[CaseStep] = []
    processors = sorted(p for p in case.glob("processor*") if p.is_dir() and not p.is_symlink())
    root_latest = latest_time(case)
    if processors:
        decomposed = latest_time(processors[0])
        if decomposed is not None and (root_latest is None or decomposed[0] > root_latest[0] * (1 + 1e-9)):
            steps.append(CaseStep("reconstruct", ("reconstructPar", "-latestTime"), "log.reconstructPar"))
    elif root_latest is None:
        raise TaskError(f"{source} holds no time directory after 0: run the case first, or use `agent run`")
    functions = labgate_functions(case)
    if root_latest is not None:
        own = own_fields(case)
        for name in DERIVED_FIELDS:
            if name not in own:  # financialFoam's `V` is its solution, not volumes an earlier check wrote
                remove_untrusted_tree(root_latest[1] / name)
    for name in ("postProcessing", "VTK"):
        remove_untrusted_tree(case / name)
    post = post_control(control, solver, functions)
    _write(case, "system/controlDict", post)
    steps.append(CaseStep("convert", ("foamFormatConvert", "-latestTime"), "log.foamFormatConvert"))
    steps.append(CaseStep("post-process", (solver, "-postProcess", "-latestTime"), POST_LOG))
    deadline = time.monotonic() + task.budget.experiment_seconds
    sandbox = sandbox_factory(case)
    try:
        outcomes = run_steps(sandbox, steps, openfoam, timeout=task.budget.experiment_seconds, limits=limits)
        walls = wall_post_processing(
            sandbox, case, control, solver, openfoam, after=outcomes, restore=post, deadline=deadline, limits=limits
        )
    finally:
        sandbox.close()
    spec = ExperimentSpec(key="check-case", task_id=task.id, params=params_dict, rationale=f"case read from {source}")
    info = _info(solver, outcomes, source, notes, inputs)
    if walls:
        info["wall_functions"] = walls
    info["post_processing"], info["steps"] = info["steps"], []
    info["adopted"] = str(source)
    outcome = _finish(
        definition, case, directory, params, spec.key, info, outcomes, refused, "labgate's post-processing"
    )
    return spec, outcome
