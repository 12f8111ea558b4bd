"""The CFD workload: OpenFOAM cases built from typed parameters and run in a sandbox."""

from __future__ import annotations

import itertools
import math
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from runs import (
    ExperimentSpec,
    TaskSpec,
    UntrustedFileError,
    copy_untrusted_tree,
    read_untrusted_path_text,
    remove_untrusted_tree,
)
from sandboxes import GIB, Limits
from tools._prose import ProsePattern
from tools._search import SearchSpace
from tools._workload import (
    ExperimentOutcome,
    OutputFile,
    SandboxFactory,
    TaskError,
    Workload,
    WorkloadSettings,
    experiment_key,
)
from tools.cfd._prose import CFD_PROSE_PATTERNS
from tools.cfd._render import warm_up
from tools.cfd._render_pool import figures_together, start_renderers
from tools.cfd.cases._cavity_task import CavityCase
from tools.cfd.cases._channel_task import ChannelCase
from tools.cfd.cases._definition import RESERVED_PARAMS, CaseDefinition
from tools.cfd.cases._generic import UserCase, resolve_task_paths, server_path_params
from tools.cfd.cases._generic_control import secure_case
from tools.cfd.cases._generic_run import adopt_user_case, run_user_case
from tools.cfd.cases._hill_task import PeriodicHillCase
from tools.cfd.cases._plate_task import FlatPlateCase
from tools.cfd.cases._post import prepare_post_processing
from tools.cfd.cases._rans import compiled_params
from tools.cfd.cases._roles import SCHEMA_NOTE, revision_problems
from tools.cfd.cases._step_task import BackwardStepCase
from tools.cfd.models import ModelCompileError, with_compiled_model
from tools.cfd.openfoam._commands import OpenFOAMConfig, StepOutcome, run_steps
from tools.cfd.openfoam._fields import FieldFormatError, RefusedOutputError, latest_time
from tools.cfd.openfoam._logs import MAX_LOG_BYTES, SolverLog, parse_solver_log, read_solver_log


def openfoam_unusable_path(directory: Path) -> str | None:
    """Why OpenFOAM cannot run a case under `directory`, or None.

    OpenFOAM refuses file names with a quote or a blank (`fileName::valid`; a space only with its
    `allowSpaceInFileName` switch, which the case's own path is read before): every command of such a
    case stops with "mesh exited with code 1". Said before anything runs, naming the folder to change.
    """
    text = str(directory.resolve())
    bad = sorted({character for character in text if character in "\"'" or character.isspace()})
    if not bad:
        return None
    shown = ", ".join("a space" if c == " " else repr(c) for c in bad)
    return (
        f"OpenFOAM cannot run a case whose path holds {shown} (its file names may not): {text}. "
        "Set LABGATE_HOME to a folder whose path has no spaces or quotes"
    )


CFD_LIMITS = Limits(memory_bytes=8 * GIB, processes=256, file_bytes=4 * GIB, output_bytes=1 << 20)


def case_definitions() -> dict[str, CaseDefinition[Any]]:
    """Every case family labgate knows, by kind (gates and `check-case` look them up here)."""
    families: tuple[CaseDefinition[Any], ...] = (
        CavityCase(),
        ChannelCase(),
        BackwardStepCase(),
        PeriodicHillCase(),
        FlatPlateCase(),
        UserCase(),
    )
    return {case.kind: case for case in families}


class CfdSettings(WorkloadSettings):
    """Where OpenFOAM is installed (LABGATE_OPENFOAM_BIN_DIR, LABGATE_OPENFOAM_PROJECT_DIR); Debian's by default."""

    openfoam_bin_dir: Path = Path("/usr/bin")
    openfoam_project_dir: Path = Path("/usr/share/openfoam")


MAX_SWEEP_EXPERIMENTS = 10_000
"""The most combinations a sweep may make (a run's experiment budget can hardly use more)."""


JUDGING_PARAMS = ("u_ref",)
"""Parameters that set what a gate judges against (the physical-range gate bounds |U| by a multiple of
`u_ref`): the user's to give, so a proposal (an LLM's revision) that changes one is invalid."""


def _attribute(model: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` in parsed (nested) parameters."""
    for name in path:
        model = getattr(model, name, None)
    return model


def _named(definition: CaseDefinition[Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` under the names of the family's parameters, as `parse` reads them (`Re` is `re`).

    Two spellings of one parameter are refused: `parse` keeps the last, while a check that reads the
    name as written saw the other one (`case_dir` the task's own, `CASE_DIR` another folder).
    """
    named: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for name, value in params.items():
        if name in RESERVED_PARAMS:
            continue
        field = definition.field_name(name)
        if field in spelled:
            raise TaskError(f"{field} is given twice ({spelled[field]}, {name}); give each parameter once")
        spelled[field] = name
        named[field] = value
    return named


def _unlike(parsed: Any, allowed: list[Any], path: tuple[str, ...]) -> bool:
    """Whether parsed parameters give `path` a value none of the task's own (parsed) variants gives it."""
    return all(_attribute(parsed, path) != _attribute(variant, path) for variant in allowed)


class CfdWorkload(Workload):
    name = "cfd"
    adoption_gates = ("reproduction",)
    image = "openfoam"
    Settings = CfdSettings

    def __init__(self, openfoam: OpenFOAMConfig | None = None) -> None:
        self.openfoam = openfoam or OpenFOAMConfig()
        self.definitions: dict[str, CaseDefinition[Any]] = case_definitions()

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> Self:
        if not isinstance(settings, CfdSettings):
            raise TypeError(f"the cfd workload is configured by CfdSettings, not {type(settings).__name__}")
        return cls(OpenFOAMConfig(bin_dir=settings.openfoam_bin_dir, project_dir=settings.openfoam_project_dir))

    def prose_patterns(self) -> Mapping[str, ProsePattern]:
        return CFD_PROSE_PATTERNS

    def definition(self, task_or_params: TaskSpec | dict[str, Any]) -> CaseDefinition[Any]:
        params = task_or_params.params if isinstance(task_or_params, TaskSpec) else task_or_params
        kind = params.get("case")
        if kind not in self.definitions:
            known = ", ".join(sorted(self.definitions))
            raise TaskError(f"CFD task needs params.case, one of: {known} (got {kind!r})")
        return self.definitions[kind]

    def tasks(self) -> list[TaskSpec]:
        return [task for definition in self.definitions.values() for task in definition.tasks()]

    def titled(self, task: TaskSpec) -> TaskSpec:
        """A catalog task given C++ of its own (a compiled model's source) is that task no longer.

        Such code runs inside the solver with its rights over every file the gates read, so an accepted
        result says only what the task's own code made of the case; under the catalog id and title it read
        as the catalog task accepted, in every list, summary and report. It keeps the catalog task's gates
        (`extends`) under an id and title that say whose model it ran.
        """
        named = task.extends or task.id
        base = next((known for known in self.tasks() if known.id == named), None)
        if base is None or task.id != base.id:
            return task
        try:
            paths = compiled_params(self.definition(task).params_model)
        except TaskError:
            return task  # no case family: validation says why
        variants, catalog = self._variants(task), self._variants(base)
        own = [path for path in paths if _given_values(variants, path) - _given_values(catalog, path)]
        if not own:
            return _titled_with_changes(task, base, variants, catalog)
        names = ", ".join(".".join(path) for path in own)
        update: dict[str, Any] = {"id": f"{base.id}/own-model", "extends": base.id}
        if task.title == base.title:
            update["title"] = f"{base.title}, with a compiled model of the task's own ({names})"
        return task.model_copy(update=update)

    def read_task_files(self, task: TaskSpec, directory: Path) -> TaskSpec:
        return resolve_task_paths(task, directory)

    def validate(self, task: TaskSpec) -> None:
        definition = self.definition(task)
        self.search_space(task)
        for combination in self._combinations(task):
            definition.parse(combination, task.id)

    def validate_run(self, task: TaskSpec) -> None:
        definition = self.definition(task)
        for combination in self._combinations(task):
            parsed = definition.parse(combination, task.id)
            for name in definition.needed_to_run:
                if getattr(parsed, name) is None:
                    raise TaskError(
                        f"{task.id} needs --param {name}=PATH to run (a folder on the machine that runs it: the "
                        "REST API reads none, so run it with `agent run` there, or judge results with `agent check`)"
                    )

    def _combinations(self, task: TaskSpec) -> list[dict[str, Any]]:
        if not task.sweep:
            return [dict(task.params)]
        names = sorted(task.sweep)
        count = math.prod(len(task.sweep[name]) for name in names)
        if count > MAX_SWEEP_EXPERIMENTS:
            # Every combination is built and validated up front: a few lines of sweep must not cost hours.
            raise TaskError(f"the sweep makes {count:,} experiments; at most {MAX_SWEEP_EXPERIMENTS:,} are planned")
        combos = []
        for values in itertools.product(*(task.sweep[name] for name in names)):
            combos.append({**task.params, **dict(zip(names, values, strict=True))})
        return combos

    def search_space(self, task: TaskSpec) -> SearchSpace | None:
        settings = task.params.get("search")
        if not settings:
            return None
        definition = self.definition(task)
        space = getattr(definition, "search_space", None)
        if space is None:
            raise TaskError(f"{definition.kind} cases have no search space; remove params.search")
        if not isinstance(settings, dict):
            raise TaskError("params.search must be a mapping, e.g. {runs: 8, population: 2}")
        result = space(dict(task.params), settings)
        assert isinstance(result, SearchSpace)
        return result

    def plan(self, task: TaskSpec) -> list[ExperimentSpec]:
        if self.search_space(task) is not None:
            params = {k: v for k, v in task.params.items() if k != "search"}
            return [
                ExperimentSpec(
                    key="default",
                    task_id=task.id,
                    params=params,
                    rationale="the calibrated model: the baseline every candidate must beat",
                )
            ]
        plans = []
        for combination in self._combinations(task):
            varied = {name: combination[name] for name in task.sweep}
            plans.append(
                ExperimentSpec(
                    key=experiment_key(varied),
                    task_id=task.id,
                    params=combination,
                    rationale="planned sweep point" if varied else "the task's single case",
                )
            )
        return plans

    def param_schema(self, task: TaskSpec) -> dict[str, Any]:
        schema: dict[str, Any] = self.definition(task).params_model.model_json_schema()
        schema["description"] = f"{schema.get('description', '')} {SCHEMA_NOTE}".strip()
        return schema

    def fixed_params(self, task: TaskSpec) -> tuple[str, ...]:
        return ("case",)

    def validate_experiment(self, task: TaskSpec, params: dict[str, Any]) -> None:
        """Raise TaskError for parameters the task does not allow a proposal (an LLM's, a planner's) to set.

        Fixed are the files of this machine, what a gate judges against (`JUDGING_PARAMS`) and compiled
        C++: each must be what the task gives it (or one of the values it sweeps). Compared as `parse`
        reads them, so another spelling (`U_REF`, `SA`), a string number or a nested default written out
        is what it stands for; file names are compared as written, before anything reads them.
        """
        definition = self.definition(params)
        named = _named(definition, params)
        given = [_named(definition, variant) for variant in self._variants(task)]
        for name in server_path_params(definition.params_model):
            if all(named.get(name) != variant.get(name) for variant in given):
                # A proposal naming another file of this machine (an LLM's, say) would have labgate read it.
                raise TaskError(
                    f"{name} names a file of this machine and is fixed by the task; propose other parameters"
                )
        parsed = definition.parse(params, task.id)
        allowed = self._parsed_variants(task, definition)
        for name in JUDGING_PARAMS:
            if name in definition.params_model.model_fields and _unlike(parsed, allowed, (name,)):
                raise TaskError(
                    f"{name} sets what a gate judges against and is fixed by the task; propose other parameters"
                )
        for path in compiled_params(definition.params_model):
            if _unlike(parsed, allowed, path):
                raise TaskError(
                    f"{'.'.join(path)} is C++ compiled into the solver, where it could write the files the gates "
                    "read; it is fixed by the task (a model-edit search writes it through its own checks), so "
                    "propose other parameters"
                )

    def validate_revision(self, task: TaskSpec, revised: ExperimentSpec, params: dict[str, Any]) -> None:
        """Raise TaskError when `params` is no rerun of `revised` that answers the same question.

        Besides `validate_experiment`: the case family stays, its physics and judging parameters keep
        the revised experiment's values, and numerics move only the careful way (`tools.cfd.cases._roles`).
        """
        self.validate_experiment(task, params)
        definition = self.definition(revised.params)
        if self.definition(params) is not definition:
            raise TaskError(f"a revision reruns the {definition.kind} case; it may not switch to another")
        problems = revision_problems(definition.parse(revised.params), definition.parse(params, task.id))
        if problems:
            raise TaskError(
                f"not a rerun of {revised.key} that answers the same question: {'; '.join(problems)}; "
                "a revision may change only how the flow is solved, and only more carefully"
            )

    def _variants(self, task: TaskSpec) -> list[dict[str, Any]]:
        """The task's parameters with each value it sweeps in turn (the first of every sweep elsewhere)."""
        base = {**task.params, **{name: values[0] for name, values in task.sweep.items() if values}}
        return [base] + [{**base, name: value} for name, values in task.sweep.items() for value in values[1:]]

    def _parsed_variants(self, task: TaskSpec, definition: CaseDefinition[Any]) -> list[Any]:
        parsed = []
        for variant in self._variants(task):
            try:
                parsed.append(definition.parse(variant, task.id))
            except TaskError:
                continue  # a combination the task never runs: it allows nothing
        return parsed

    def numerics_variant(self, experiment: ExperimentSpec) -> tuple[dict[str, Any], str] | None:
        return self.definition(experiment.params).stabilise(experiment.params)

    def ray_resources(self, task: TaskSpec) -> dict[str, float]:
        return {"openfoam": 1}

    def check_tools(self, task: TaskSpec) -> None:
        self.openfoam.require(self.definition(task).applications)

    def tool_versions(self) -> dict[str, str]:
        return {"openfoam": self.openfoam.version() or "not found"}

    def warm_up(self, task: TaskSpec) -> None:
        """The figure renderers' zygote imports matplotlib on the core start-up leaves idle."""
        start_renderers(for_experiment_threads=True)

    def run(
        self, task: TaskSpec, experiment: ExperimentSpec, directory: Path, sandbox_factory: SandboxFactory
    ) -> ExperimentOutcome:
        unusable = openfoam_unusable_path(directory)
        if unusable:
            return ExperimentOutcome(key=experiment.key, status="error", error=unusable)
        definition = self.definition(experiment.params)
        if isinstance(definition, UserCase):
            return run_user_case(definition, self.openfoam, CFD_LIMITS, task, experiment, directory, sandbox_factory)
        params = definition.parse(experiment.params, task.id)
        case = directory / "case"
        try:
            case_files = with_compiled_model(params, definition.files(params))
        except ModelCompileError as error:
            compile_info = {"case": definition.kind, "compile_errors": [item.as_dict() for item in error.diagnostics]}
            return ExperimentOutcome(key=experiment.key, status="error", error=str(error)[:2000], info=compile_info)
        sandbox = sandbox_factory(case)
        warm_up()
        try:
            for relative, text in case_files.items():
                sandbox.write_file(relative, text)
            outcomes = run_steps(
                sandbox,
                definition.steps(params),
                self.openfoam,
                timeout=task.budget.experiment_seconds,
                limits=CFD_LIMITS,
            )
        finally:
            sandbox.close()

        files = [
            OutputFile(path=f"case/{rel}", kind="source", role=f"input:{rel}", required=False)
            for rel, data in case_files.items()
            if isinstance(data, str)
        ]
        files += [OutputFile(path=f"case/{o.log}", kind="log", role=f"log:{o.name}", required=False) for o in outcomes]
        solver_step = next((o for o in outcomes if o.log == definition.solver_log), None)
        if solver_step is not None:
            files.append(OutputFile(path=f"case/{definition.solver_log}", kind="log", role="solver-log"))
        info: dict[str, Any] = {
            "case": definition.kind,
            "solver_log": f"case/{definition.solver_log}",
            "steps": [
                {
                    "name": o.name,
                    "returncode": o.returncode,
                    "seconds": round(o.seconds, 3),
                    "timed_out": o.timed_out,
                }
                for o in outcomes
            ],
        }
        failed = next((o for o in outcomes if o.timed_out or o.returncode != 0), None)
        log, refused = _solver_log(case, definition.solver_log)
        if failed is not None:
            reason = (
                f"{failed.name} timed out after {task.budget.experiment_seconds:g} s"
                if failed.timed_out
                else f"{failed.name} exited with code {failed.returncode}"
            )
            if log.fatal:
                reason += f": {log.fatal[0][:300]}"
            elif log.non_finite:
                reason += ": the solution became non-finite (diverged)"
            return ExperimentOutcome(
                key=experiment.key, status="error", error=reason, files=files, info=info, refused=refused
            )
        try:
            # The case's figures are drawn in parallel, off this process; all are on disk when this ends.
            with figures_together():
                metrics, figures = definition.analyse(case, directory, params, log)
        except (FieldFormatError, ValueError, OSError) as error:
            info["analysis_error"] = f"{type(error).__name__}: {error}"
            info["analysis_traceback"] = traceback.format_exc(limit=5)
            refused += _refusal(error, directory)
            return ExperimentOutcome(key=experiment.key, status="completed", files=files, info=info, refused=refused)
        return ExperimentOutcome(
            key=experiment.key, status="completed", metrics=metrics, files=files + figures, info=info, refused=refused
        )

    def adopt(
        self, task: TaskSpec, source: Path, directory: Path, sandbox_factory: SandboxFactory
    ) -> tuple[ExperimentSpec, ExperimentOutcome]:
        """Judge a case someone ran by hand: copy it, read its parameters back, and post-process the copy.

        The solver is not run again. labgate's own post-processing runs on the copy in `directory/case`,
        in the sandbox, with labgate's controlDict and function objects (cell centres, wall shear, y+,
        line samples: whatever the family's gates read), never the user's; what the user's own
        post-processing left is removed first. The source directory is never written to.

        Raises:
            TaskError: the case cannot be adopted, with the reason; also where a dictionary holds a shape
                its reader does not expect (a list where a vector goes, an empty entry), which used to
                escape as an IndexError or AttributeError with a traceback.
        """
        try:
            return self._adopt(task, source, directory, sandbox_factory)
        except (LookupError, AttributeError, TypeError, ValueError, ArithmeticError) as error:
            if isinstance(error, TaskError):
                raise
            raise TaskError(
                f"cannot read the case's dictionaries: {type(error).__name__}: {str(error)[:300]}"
            ) from None

    def _adopt(
        self, task: TaskSpec, source: Path, directory: Path, sandbox_factory: SandboxFactory
    ) -> tuple[ExperimentSpec, ExperimentOutcome]:
        if not (source / "system" / "controlDict").is_file():
            raise TaskError(f"{source} is not an OpenFOAM case (no system/controlDict)")
        definition = self.definition(task)
        if isinstance(definition, UserCase):
            return adopt_user_case(definition, self.openfoam, CFD_LIMITS, task, source, directory, sandbox_factory)
        case = directory / "case"
        remove_untrusted_tree(case)
        try:
            refused = copy_untrusted_tree(
                source, case, max_file_bytes=MAX_LOG_BYTES, skip=("processor*", "dynamicCode")
            )
        except UntrustedFileError as error:
            raise TaskError(f"cannot copy the case: {error}") from None
        secure_case(case)  # the solver's -postProcess reads the case's fields and fvOptions: no code of theirs
        try:
            params = {**definition.infer(case), "case": definition.kind}
        except TaskError as error:
            if not refused:
                raise
            raise TaskError(f"{error} (not copied: {'; '.join(refused)})") from None
        except (ArithmeticError, ValueError, TypeError) as error:  # a zero length, a word where a number goes
            raise TaskError(f"cannot read the case's parameters from its dictionaries: {error}") from None
        parsed = definition.parse(params, task.id)
        spec = ExperimentSpec(key="check-case", task_id=task.id, params=params, rationale=f"case read from {source}")
        latest = latest_time(case)
        outcomes: list[StepOutcome] = []
        if latest is not None:
            step = prepare_post_processing(case, latest[1], definition.solver, definition.post_functions(case, parsed))
            sandbox = sandbox_factory(case)
            try:
                outcomes = run_steps(
                    sandbox, [step], self.openfoam, timeout=task.budget.experiment_seconds, limits=CFD_LIMITS
                )
            finally:
                sandbox.close()
        log_name = definition.solver_log
        files = [OutputFile(path=f"case/{log_name}", kind="log", role="solver-log")]
        info: dict[str, Any] = {
            "case": definition.kind,
            "solver_log": f"case/{log_name}",
            "steps": [],
            "post_processing": [
                {"name": o.name, "returncode": o.returncode, "seconds": round(o.seconds, 3), "timed_out": o.timed_out}
                for o in outcomes
            ],
            "adopted": str(source),
        }
        log, unread = _solver_log(case, log_name)
        refused = [f"case/{refusal}" for refusal in refused] + [r for r in unread if r not in refused]
        files += [OutputFile(path=f"case/{o.log}", kind="log", role=f"log:{o.name}", required=False) for o in outcomes]
        failed = next((o for o in outcomes if o.timed_out or o.returncode != 0), None)
        if failed is not None:
            reason = (
                f"labgate's post-processing ({definition.solver} -postProcess) "
                + ("timed out" if failed.timed_out else f"exited with code {failed.returncode}")
                + _first_error(case / failed.log)
            )
            return spec, ExperimentOutcome(
                key=spec.key, status="error", error=reason, files=files, info=info, refused=refused
            )
        try:
            with figures_together():
                metrics, figures = definition.analyse(case, directory, parsed, log)
        except (FieldFormatError, ValueError, OSError) as error:
            info["analysis_error"] = f"{type(error).__name__}: {error}"
            refused += [item for item in _refusal(error, directory) if item not in refused]
            return spec, ExperimentOutcome(key=spec.key, status="completed", files=files, info=info, refused=refused)
        return spec, ExperimentOutcome(
            key=spec.key, status="completed", metrics=metrics, files=files + figures, info=info, refused=refused
        )


def _first_error(log: Path) -> str:
    """': <the first FOAM FATAL line>' of a post-processing log, or nothing."""
    try:
        text = read_untrusted_path_text(log, within=log.parent, max_bytes=MAX_LOG_BYTES)
    except UntrustedFileError:
        return ""
    fatal = parse_solver_log(text).fatal
    return f": {fatal[0][:300]}" if fatal else ""


def _refusal(error: Exception, directory: Path) -> list[str]:
    """The refusal behind a failed analysis, relative to the experiment directory (none for other errors)."""
    if not isinstance(error, RefusedOutputError):
        return []
    try:
        shown = error.path.relative_to(directory).as_posix()
    except ValueError:
        shown = str(error.path)
    return [f"{shown}: {error.reason}"]


def _solver_log(case: Path, name: str) -> tuple[SolverLog, list[str]]:
    """The solver log of a finished case, and the refusal when the case left something else under its name."""
    try:
        return read_solver_log(case / name, within=case), []
    except UntrustedFileError as error:
        return SolverLog(), [f"case/{error.path}: {error.reason}"]


MAX_CHANGES_TITLED = 4
"""Parameters named in a retitled catalog task's title; more are counted."""


def _titled_with_changes(
    task: TaskSpec, base: TaskSpec, variants: list[dict[str, Any]], catalog: list[dict[str, Any]]
) -> TaskSpec:
    """A catalog task run with parameters of its own, under a title that says so.

    Catalog titles state what the catalog runs ("at Re 100 and 400", "with three RANS turbulence models"): a
    run at Re 1000 read under that heading in the report, the dashboard and every list, with the parameters
    that contradict it only in a table further down. A title the task gives itself is kept.
    """
    if task.title != base.title:
        return task
    names = sorted({name for variant in variants + catalog for name in variant})
    changed = [name for name in names if _given_values(variants, (name,)) != _given_values(catalog, (name,))]
    if not changed:
        return task
    shown = []
    for name in changed[:MAX_CHANGES_TITLED]:
        values = [variant.get(name) for variant in variants]
        if all(isinstance(value, str | int | float) or value is None for value in values):
            distinct = ["unset" if value is None else str(value) for value in dict.fromkeys(values)]
            shown.append(f"{name} = {' / '.join(distinct[:4])}" + (" / ..." if len(distinct) > 4 else ""))
        else:
            shown.append(f"{name} of its own")
    if len(changed) > MAX_CHANGES_TITLED:
        shown.append(f"{len(changed) - MAX_CHANGES_TITLED} more")
    title = f"{base.title}; run with other parameters ({', '.join(shown)})"
    return task.model_copy(update={"title": title})


def _given_values(variants: list[dict[str, Any]], path: tuple[str, ...]) -> set[str]:
    """Every value the task's variants (`CfdWorkload._variants`) give the nested parameter at `path`, as text
    (None not counted)."""
    found: set[str] = set()
    for root in variants:
        value: Any = root
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        if value is not None:
            found.add(repr(value))
    return found
