"""The task catalog: built-in tasks of every workload, task files, and command-line overrides."""

from __future__ import annotations

import json
import stat
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from runs import MAX_SEED, Budget, ExperimentSpec, TaskSpec
from tools._gate_settings import GateOptionsValidator, check_gate_settings, gate_deviations
from tools._repeated import listed_twice
from tools._workload import TaskError, Workload


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, naming the field: what a user needs to fix a task or parameter."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


def parse_scalar(text: str) -> Any:
    """A command-line value as the number or boolean it spells, else the text itself."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text.strip()


class Catalog:
    """Every task labgate can run, keyed by id, with the workload that runs it.

    With `gate_options` (the gates' validator, handed in by the front door) the catalog also refuses
    unknown gates and bad gate options, and compares those of a submitted task with its catalog task's.
    `unavailable` names workloads that are registered but could not be loaded, with the reason: a
    task of one of them is refused with that reason instead of "unknown".
    """

    def __init__(
        self,
        workloads: Iterable[Workload] | Mapping[str, Workload],
        gate_options: GateOptionsValidator | None = None,
        unavailable: Mapping[str, str] | None = None,
    ) -> None:
        # A mapping is kept as it is given: `WorkloadsOnDemand` loads each workload when it is first asked
        # for, and fills its `problems` (passed as `unavailable`) as it goes, so neither is copied.
        self.workloads: Mapping[str, Workload] = (
            workloads if isinstance(workloads, Mapping) else {workload.name: workload for workload in workloads}
        )
        self.gate_options = gate_options
        self.unavailable: Mapping[str, str] = unavailable if unavailable is not None else {}
        self._tasks: dict[str, TaskSpec] | None = None
        self._own: dict[str, dict[str, TaskSpec]] = {}

    def tasks(self) -> dict[str, TaskSpec]:
        if self._tasks is None:
            self._tasks = {task_id: task for name in self.workloads for task_id, task in self._tasks_of(name).items()}
        return self._tasks

    def _tasks_of(self, name: str) -> dict[str, TaskSpec]:
        if name not in self._own:
            self._own[name] = {task.id: task for task in self.workloads[name].tasks()}
        return self._own[name]

    def _find(self, task_id: str) -> TaskSpec | None:
        """The catalog task `task_id`. An id that starts with its workload's name (`cfd/cavity`) is looked
        up in that workload's tasks alone, so running it does not first read every other workload's
        (the proof workload parses hundreds of problems)."""
        prefix = task_id.split("/", maxsplit=1)[0]
        if self._tasks is None and "/" in task_id and prefix in self.workloads:
            found = self._tasks_of(prefix).get(task_id)
            if found is not None:
                return found
        return self.tasks().get(task_id)

    def workload_for(self, task: TaskSpec) -> Workload:
        """The workload that runs `task`; TaskError naming the installed ones when it is not among them."""
        workload = self.workloads.get(task.workload)
        if workload is None:
            raise TaskError(f"{task.id}: {self._missing(task.workload)}")
        return workload

    def _missing(self, name: str) -> str:
        """Why workload `name` cannot run anything here, naming those that can."""
        installed = ", ".join(sorted(self.workloads)) or "none"
        if name in self.unavailable:
            return f"workload {name!r} is registered but unavailable: {self.unavailable[name]}"
        return f"workload {name!r} is not installed (installed workloads: {installed})"

    def get(self, task_id: str) -> TaskSpec:
        found = self._find(task_id)
        if found is not None:
            return found.model_copy(deep=True)
        tasks = self.tasks()
        prefix = task_id.split("/", maxsplit=1)[0]
        if "/" in task_id and prefix not in self.workloads:
            raise TaskError(f"unknown task {task_id!r}: {self._missing(prefix)}")
        close = [known for known in tasks if known.split("/")[0] == prefix][:8]
        hint = f"; known {prefix} tasks: {', '.join(close)}" if close else "; see `agent tasks`"
        raise TaskError(f"unknown task {task_id!r}{hint}")

    def load(self, reference: str) -> TaskSpec:
        """A catalog id, or a YAML/TOML/JSON task file (which may extend a catalog task)."""
        path = Path(reference)
        named_as_file = path.suffix.lower() in (".yaml", ".yml", ".toml", ".json")
        also_catalog = not named_as_file and self._find(reference) is not None
        # A folder of results named after a catalog task (`cfd/cavity/`) is no task file: the id is meant.
        if named_as_file or (path.exists() and not (also_catalog and path.is_dir())):
            try:
                task = self._load_file(path)
            except TaskError as error:
                if not also_catalog:
                    raise
                raise TaskError(
                    f"{error} ({reference} is also a catalog task: a task file of that name is read first; "
                    "give yours a .yaml, .toml or .json name, or run from another folder)"
                ) from None
        else:
            task = self.get(reference)
        self.validate(task)
        return task

    def validate(self, task: TaskSpec) -> None:
        if not 0 <= task.seed <= MAX_SEED:  # a seed past 64 bits cannot even be stored
            raise TaskError(f"{task.id}: seed {task.seed} is outside 0 to {MAX_SEED}")
        check_param_names(task)
        check_sweep_values(task)
        workload = self.workload_for(task)
        workload.validate(task)
        if task.sweep:
            check_sweep_planned(task, workload.plan(task))
        if self.gate_options is not None:
            check_gate_settings(task, self.gate_options)

    def reference(self, task: TaskSpec) -> TaskSpec | None:
        """The catalog task `task` is named after (what it would pass for), else the one it extends, else the
        one about the same subject, if any."""
        return self._find(task.id) or (self._find(task.extends) if task.extends else None) or self._same_subject(task)

    def _same_subject(self, task: TaskSpec) -> TaskSpec | None:
        """The catalog task whose subject `task` studies under an id of its own (`kernels/my-heat` with
        `kernel: heat2d` studies `kernels/heat2d`'s kernel).

        A catalog task's subject is the parameters its id names (kernel, case, set and problem). A task of
        one's own about that subject is judged against that task's gates: it may copy the catalog task's
        title and parameters, and loosened thresholds must then read as custom gates, not as its result.
        """
        if task.workload not in self.workloads:
            return None
        for _, candidate in sorted(self._tasks_of(task.workload).items()):
            subject = subject_params(candidate)
            if subject and all(k not in task.sweep and task.params.get(k) == v for k, v in subject.items()):
                return candidate
        return None

    def with_deviations(self, task: TaskSpec) -> TaskSpec:
        """`task` with its gate deviations from its catalog task recorded (none when it has no catalog task)."""
        reference = self.reference(task)
        found = gate_deviations(task, reference, self.gate_options) if reference is not None else []
        return task.model_copy(update={"gate_deviations": found})

    def _load_file(self, path: Path) -> TaskSpec:
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                # A FIFO would block the reader forever, a device could be read without end.
                raise TaskError(f"task file {path} is not a regular file")
            if info.st_size > MAX_TASK_FILE_BYTES:
                raise TaskError(
                    f"task file {path} is {info.st_size} bytes; a task file holds at most {MAX_TASK_FILE_BYTES}"
                )
            text = path.read_text()
        except OSError as error:
            raise TaskError(f"cannot read task file {path}: {error.strerror or error}") from None
        except UnicodeDecodeError as error:
            raise TaskError(f"task file {path} is not UTF-8 text: {error.reason} at byte {error.start}") from None
        data = parse_task_text(text, path.suffix.lower(), str(path))
        if not isinstance(data, dict):
            raise TaskError(f"task file {path} must hold a mapping of task fields, not {type(data).__name__}")
        task = self.from_mapping(data, origin=str(path))
        workload = self.workloads.get(task.workload)
        return workload.titled(workload.read_task_files(task, path.parent)) if workload is not None else task

    def from_mapping(self, data: Mapping[str, Any], origin: str = "task") -> TaskSpec:
        """A task from a mapping (file or REST body); `extends: <id>` starts from a catalog task.

        The fields merged with the catalog task's are checked to be mappings first (a list or a
        number there is the writer's mistake, named as such). A parameter the mapping fixes in
        `params` is no longer swept by the catalog task: `params: {re: 5000}` runs Re 5000, as
        `--param re=5000` does, instead of being silently outvoted by the catalog's sweep.
        """
        _check_shape(data, origin)
        data = dict(data)
        base_id = data.pop("extends", None)
        try:
            if base_id is not None:
                base = self.get(str(base_id)).model_dump()
                fixed = data.pop("params", None) or {}
                params = {**base.get("params", {}), **fixed}
                if "sweep" not in data:
                    data["sweep"] = {name: values for name, values in base["sweep"].items() if name not in fixed}
                budget = {**base.get("budget", {}), **(data.pop("budget", None) or {})}
                gate_options = dict(base.get("gate_options", {}))
                for gate, options in (data.pop("gate_options", None) or {}).items():
                    gate_options[gate] = {**gate_options.get(gate, {}), **(options or {})}
                merged = {
                    **base,
                    **data,
                    "params": params,
                    "budget": budget,
                    "gate_options": gate_options,
                    "extends": str(base_id),
                }
                return TaskSpec.model_validate(merged)
            return TaskSpec.model_validate(data)
        except ValidationError as error:
            raise TaskError(f"{origin} is not a valid task: {describe_validation_error(error)}") from None


_MERGED_FIELDS = ("params", "sweep", "budget", "gate_options")
"""Fields of a task mapping that hold mappings (merged with the catalog task's when it extends one)."""


def _check_shape(data: Mapping[str, Any], origin: str) -> None:
    """TaskError naming the field when `extends` is not a task id or a mapping field holds something else."""
    extends = data.get("extends")
    if extends is not None and not isinstance(extends, str):
        raise TaskError(f"{origin} is not a valid task: extends: must be a catalog task id, not {_kind(extends)}")
    for name in _MERGED_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, Mapping):
            raise TaskError(
                f"{origin} is not a valid task: {name}: must be a mapping of names to values, not {_kind(value)}"
            )
    for gate, options in (data.get("gate_options") or {}).items():
        if options is not None and not isinstance(options, Mapping):
            raise TaskError(
                f"{origin} is not a valid task: gate_options.{gate}: must be a mapping of options, not {_kind(options)}"
            )
    params, sweep = data.get("params") or {}, data.get("sweep") or {}
    empty = sorted(str(name) for name, values in sweep.items() if isinstance(values, list) and not values)
    if empty:
        raise TaskError(f"{origin} is not a valid task: sweep.{empty[0]}: a sweep needs at least one value")
    both = sorted(str(name) for name in params if name in sweep)
    if both:
        raise TaskError(
            f"{origin} is not a valid task: params and sweep both set {', '.join(both)}; "
            "a parameter is either fixed (params) or swept (sweep)"
        )


def _kind(value: Any) -> str:
    """What a misplaced value is, in words (never its repr: a 5,000-digit integer has none)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else type(value).__name__


MAX_TASK_FILE_BYTES = 4 << 20
"""A task file is a few kilobytes (a kernel's sources and data are files beside it)."""
MAX_TASK_FILE_VALUES = 100_000
"""Values a task file may hold once its YAML aliases are expanded; a real task holds a few hundred.
A "billion laughs" file (aliases of aliases) is a few hundred bytes that expand to billions."""


def parse_task_text(text: str, suffix: str, origin: str) -> Any:
    """The data of a task file's text (`.toml`, `.json`, else YAML); TaskError when it is malformed.

    Beyond the parsers' own syntax errors: values their constructors refuse (a YAML date of month 13,
    an integer of 5,000 digits), nesting deep enough to exhaust the parser's recursion, duplicate keys
    (which YAML and JSON would silently resolve to the last one), and YAML aliases that expand past
    MAX_TASK_FILE_VALUES values or refer to themselves.
    """
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text, object_pairs_hook=_json_object)
        else:
            data = _load_yaml(text)
    except (yaml.YAMLError, ValueError, OverflowError) as error:  # JSON and TOML decode errors are ValueErrors
        detail = str(error).replace("\n", " ")
        raise TaskError(f"task file {origin} is malformed: {detail}") from None
    except RecursionError:
        raise TaskError(f"task file {origin} is malformed: its values nest too deeply") from None
    problem = _nul_problem(data)
    if problem is not None:
        raise TaskError(f"task file {origin} is malformed: {problem}")
    return data


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict; ValueError naming a key given twice (json.loads keeps the last silently)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate key {key!r}")
        found[key] = value
    return found


def _load_yaml(text: str) -> Any:
    """`yaml.safe_load`, but the node graph is measured before any Python value is built from it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_graph(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_yaml_graph(root: yaml.Node) -> None:
    """Refuse duplicate keys, self-referring aliases and expansions past MAX_TASK_FILE_VALUES (no recursion).

    Each node's expanded size is computed once (an alias is the same node object again), so a file
    whose aliases expand to billions is measured in time proportional to its length.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, children_done = pending.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _yaml_children(node))
            if sizes[key] > MAX_TASK_FILE_VALUES:
                raise ValueError(f"its aliases expand to more than {MAX_TASK_FILE_VALUES:,} values")
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ValueError(f"an alias refers to a value that contains it (line {node.start_mark.line + 1})")
        _refuse_duplicate_keys(node)
        open_nodes.add(key)
        pending.append((node, True))
        pending.extend((child, False) for child in _yaml_children(node))


def _yaml_children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _refuse_duplicate_keys(node: yaml.Node) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[tuple[str, str]] = set()
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        if (key.tag, key.value) in seen:
            raise ValueError(f"duplicate key {key.value!r} (line {key.start_mark.line + 1})")
        seen.add((key.tag, key.value))


def _nul_problem(data: Any) -> str | None:
    """Where a NUL character sits in `data` (no database column takes it), else None."""
    pending: list[tuple[Any, str]] = [(data, "")]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return f"{path or 'the file'} holds a NUL character"
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and "\x00" in key:
                    return f"a name in {path or 'the file'} holds a NUL character"
                pending.append((child, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list):
            pending.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
    return None


def apply_overrides(
    task: TaskSpec,
    *,
    params: Sequence[str] = (),
    budget_experiments: int | None = None,
    seed: int | None = None,
) -> TaskSpec:
    """Command-line `--param name=value[,value...]`: one value sets it, several sweep it."""
    task = task.model_copy(deep=True)
    for name, values in parse_overrides(task, params).items():
        if len(values) == 1 and name not in task.sweep:
            task.params[name] = values[0]
        else:
            task.sweep[name] = values
            task.params.pop(name, None)
    if budget_experiments is not None:
        if budget_experiments < 1:
            raise TaskError("--budget must be at least 1 experiment")
        task.budget = Budget.model_validate({**task.budget.model_dump(), "experiments": budget_experiments})
    if seed is not None:
        task.seed = seed
    return task


def parse_overrides(task: TaskSpec, params: Sequence[str]) -> dict[str, list[Any]]:
    """Command-line `--param name=value[,value...]` as {name: values}, each name as `task` spells it (`Re` for
    `re`).

    Raises:
        TaskError: an item is malformed, gives no value or an empty one, or names a parameter twice.
    """
    parsed: dict[str, list[Any]] = {}
    given: dict[str, str] = {}
    for item in params:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name or not raw.strip():
            raise TaskError(f"--param {item!r} must look like name=value or name=v1,v2,...")
        # A name that matches an existing parameter but for case (`Re` for `re`) means that parameter.
        existing = {known.lower(): known for known in (*task.params, *task.sweep)}
        name = existing.get(name.lower(), name)
        if name.lower() in given:  # the second would silently replace the first
            first = given[name.lower()]
            raise TaskError(
                f"--param {name} is given twice ({first!r} and {item!r}): give it once, "
                f"with every value separated by commas to sweep them"
            )
        given[name.lower()] = item
        parts = raw.split(",")
        if not any(part.strip() for part in parts):
            raise TaskError(f"--param {item!r} gives no value")
        if not all(part.strip() for part in parts):  # `re=100,,400`: a value left out, not two values
            raise TaskError(f"--param {item!r} has an empty value between commas: give each value once")
        parsed[name] = [parse_scalar(part) for part in parts]
    return parsed


def subject_params(task: TaskSpec) -> dict[str, str]:
    """The parameters a catalog task's id names (`kernels/heat2d`: kernel heat2d; a miniF2F problem's
    set and problem): what the task is about, which no task keeping its id may change."""
    named = set(task.id.split("/")[1:])
    return {k: v for k, v in task.params.items() if isinstance(v, str) and v in named}


def check_param_names(task: TaskSpec) -> None:
    """TaskError when two of a task's parameters differ only in case (`re` and `Re`).

    Workloads match parameter names without regard to case (`--param Re=100` means `re`), so of two such
    names one silently outvotes the other, while the run records both values as if each had been used.
    """
    seen: dict[str, str] = {}
    for name in [*task.params, *task.sweep]:
        folded = str(name).casefold()
        other = seen.setdefault(folded, str(name))
        if other != name:
            raise TaskError(
                f"{task.id}: parameters {other!r} and {name!r} name the same parameter (names ignore case); "
                "give it once"
            )


def check_sweep_values(task: TaskSpec) -> None:
    """TaskError naming a sweep that lists one value twice (`re=100,100`, or 100 and 100.0).

    Two experiments with the same parameters share one key, directory and record: the second would be
    taken for the first (or both would write the same directory at once), and the run would report one
    experiment as two.
    """
    for name, values in task.sweep.items():
        seen: set[str] = set()
        for value in values:
            canonical = json.dumps(_comparable(value), sort_keys=True, default=str)
            if canonical in seen:
                shown = canonical if len(canonical) <= 80 else canonical[:77] + "..."
                raise TaskError(f"{task.id}: sweep.{name} lists {shown} more than once; give each value once")
            seen.add(canonical)


def _comparable(value: Any) -> Any:
    """`value` with numbers that are equal made equal (100.0 is 100), for comparing sweep values."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(key): _comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def check_sweep_planned(task: TaskSpec, planned: Sequence[ExperimentSpec]) -> None:
    """TaskError when the workload's plan leaves out a swept parameter, or runs a value of it twice.

    A sweep the plan does not carry into its experiments (a parameter the workload does not sweep,
    or one its plan replaces) would run the defaults while the run records the sweep as asked.
    """
    keys = [spec.key for spec in planned]
    if len(set(keys)) != len(keys):
        twice = sorted(listed_twice(keys))
        raise TaskError(f"{task.id}: the sweep plans experiment {twice[0]!r} more than once; give each value once")
    for name, values in task.sweep.items():
        wanted = {json.dumps(_comparable(value), sort_keys=True, default=str) for value in values}
        given = {
            json.dumps(_comparable(spec.params[name]), sort_keys=True, default=str)
            for spec in planned
            if name in spec.params
        }
        if not planned or any(name not in spec.params for spec in planned) or not wanted <= given:
            raise TaskError(
                f"{task.id}: sweep.{name} is not carried into the planned experiments of this task; "
                "fix the value in params or sweep a parameter this task varies"
            )
