"""Which task parameters a plan may take from an untrusted source: a document or a model's draft.

A document can carry a prompt injection and a model is an optimiser, so neither may decide what a
gate compares with, what the task is about, or how long and how strictly it is checked. Those come
only from the user: the goal they wrote, `--param`, a task file or a REST body. A plan's value for a
parameter is kept only when one of these holds:

- it is the catalog task's own value (a draft that repeats the defaults changes nothing);
- the user's goal states that value (read by the same readers the built-in planner uses);
- the parameter describes the system studied and the documents may state it: the task's parameter
  schema declares it as a plain scalar (a number, an integer, a boolean, or one of the words the
  schema lists), it is not one of the parameters that name the task's subject or that the workload
  fixes, and the workload's prose vocabulary reads it or the schema lists its values (Reynolds
  numbers, the mesh, the turbulence model).

Everything else is the user's alone: a parameter the schema does not declare (a proof's statement
or proof, a search's settings and seed), one that names a file (`format: path`), a nullable override
of what labgate derives otherwise (a reference speed, an end time, a time step), free text, mappings
and lists (a kernel definition, a run to resume), and plain numbers that set how a check runs rather
than what is studied (iterations, residual targets, evaluations, re-measurements, timeouts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.planner._params import read_parameters
from runs import TaskSpec
from tools import Catalog, Workload, subject_params

_PLAIN_TYPES = frozenset({"number", "integer", "boolean"})


def _properties(workload: Workload, task: TaskSpec) -> dict[str, Any]:
    properties = workload.param_schema(task).get("properties", {})
    return dict(properties) if isinstance(properties, Mapping) else {}


def _plain_scalar(spec: Any) -> bool:
    """A single plain type (no `anyOf` with null: a value labgate derives when it is absent), no path."""
    if not isinstance(spec, Mapping) or spec.get("format") == "path":
        return False
    if spec.get("enum"):
        return all(isinstance(value, str | int | float | bool) for value in spec["enum"])
    return spec.get("type") in _PLAIN_TYPES


def user_only_reason(workload: Workload, task: TaskSpec, name: str, *, documents: bool = True) -> str | None:
    """Why only the user may set parameter `name` of catalog task `task`, or None when an untrusted source may.

    `documents=False` asks for a model's hypothesis about an experiment instead of a plan read from
    documents: it may also change how the experiment runs (iterations, a relaxation factor), which the
    gates then judge, but still nothing else this module's docstring lists.
    """
    spec = _properties(workload, task).get(name)
    if spec is None:
        return "is not a parameter of the task's schema"
    if name in subject_params(task) or name in workload.fixed_params(task):
        return "names what the task is about"
    if isinstance(spec, Mapping) and spec.get("format") == "path":
        return "names a file of this machine"
    if not _plain_scalar(spec):
        return "is an override (text, a mapping, a list, or a value labgate derives when it is absent)"
    described = name in workload.prose_patterns() or (isinstance(spec, Mapping) and bool(spec.get("enum")))
    if documents and not described:
        return "sets how the check runs, not the system studied"
    return None


def document_parameters(catalog: Catalog, task: TaskSpec) -> set[str]:
    """The parameters of catalog task `task` that documents (and a model reading them) may state."""
    workload = catalog.workload_for(task)
    return {name for name in _properties(workload, task) if user_only_reason(workload, task, name) is None}


def _catalog_value(workload: Workload, task: TaskSpec, name: str) -> Any:
    if name in task.params:
        return task.params[name]
    spec = _properties(workload, task).get(name)
    return spec.get("default") if isinstance(spec, Mapping) else None


def _unchanged(workload: Workload, task: TaskSpec, name: str, values: list[Any], swept: bool) -> bool:
    if swept:
        return name in task.sweep and list(task.sweep[name]) == values
    return name not in task.sweep and _same(values[0], _catalog_value(workload, task, name))


def _same(left: Any, right: Any) -> bool:
    """Equal and of the same kind (True is not 1 here: a boolean where a number stood is a change)."""
    return left == right and isinstance(left, bool) == isinstance(right, bool)


def _stated(values: list[Any], stated: list[Any]) -> bool:
    return all(any(_same(value, known) for known in stated) for value in values)


def untrusted_problems(
    catalog: Catalog, task: TaskSpec, params: Mapping[str, Any], sweep: Mapping[str, list[Any]], goal: str
) -> list[str]:
    """What a plan from documents or a model sets that only the user may set, one line per parameter.

    `task` is the catalog task the plan names, before the plan's values; `goal` is the user's own
    words, whose stated values a plan may carry whatever the parameter.
    """
    in_goal = {name: values for name, (_, values) in read_parameters(catalog, task, goal).items()} if goal else {}
    workload = catalog.workload_for(task)
    problems = []
    given = [(name, [value], False) for name, value in params.items()]
    given += [(name, list(values), True) for name, values in sweep.items()]
    for name, values, swept in given:
        if _unchanged(workload, task, name, values, swept) or _stated(values, in_goal.get(name, [])):
            continue
        why = user_only_reason(workload, task, name)
        if why is not None:
            problems.append(f"{'sweep' if swept else 'params'}.{name} {why}")
    return problems


def untrusted_refusal(
    catalog: Catalog, task: TaskSpec, params: Mapping[str, Any], sweep: Mapping[str, list[Any]], goal: str
) -> str | None:
    """`untrusted_problems` as one sentence for the user (and the model), or None when there are none."""
    problems = untrusted_problems(catalog, task, params, sweep, goal)
    if not problems:
        return None
    return (
        "; ".join(problems) + ": only the user sets these (in the goal, with --param or in a task file), "
        "never a document or a model's plan"
    )
