"""Parameter values of the JSON type their task declares, checked where a client hands them in.

A workload validates a task's parameters leniently (pydantic's lax mode): `re: true` passes as the
number 1 and `re: "100"` as 100. The run, though, records the values as given, and plans its
experiments from them: a run whose record says `re: true` was solved at Re 1, and one recorded with
`"100"` sorts, groups and compares as text beside runs of the number 100. The REST API and the command
line take a value only when its own JSON type is one the parameter's schema allows, so what a run
records is what it ran; so does the planner, for the parameters a model's plan gives (`re: true` was
kept as written and run at Re 1).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from runs import TaskSpec
from tools._workload import TaskError, Workload

_NUMERIC = {"number", "integer"}


def check_param_types(workload: Workload, task: TaskSpec) -> None:
    """Raise TaskError naming the first fixed or swept value whose JSON type its parameter does not allow.

    Only numbers and booleans are checked: those are what lax validation converts silently (text and
    booleans into numbers, numbers and words into booleans), and an infinite or NaN number, which the
    run store records as null. A parameter without a declared type, or a task whose workload declares
    no schema, is left to the workload's own validation.
    """
    try:
        properties = workload.param_schema(task).get("properties", {})
    except TaskError:
        return  # no schema for this task: its validation names what is wrong
    for name, where, value in _given_values(task):
        spec = properties.get(name)
        if not isinstance(spec, dict):
            continue
        allowed = declared_types(spec)
        problem = _type_problem(value, allowed)
        if problem is not None:
            raise TaskError(f"{where}: {json.dumps(value, default=str)} is {problem}")


def _given_values(task: TaskSpec) -> Iterator[tuple[str, str, Any]]:
    for name, value in task.params.items():
        yield name, f"params.{name}", value
    for name, values in task.sweep.items():
        for index, value in enumerate(values):
            yield name, f"sweep.{name}[{index}]", value


def declared_types(spec: dict[str, Any]) -> set[str]:
    """The JSON types a property's schema allows (`type`, or the `type` of each `anyOf` branch); empty: any."""
    kinds: set[str] = set()
    for branch in [spec, *(item for item in spec.get("anyOf", []) if isinstance(item, dict))]:
        kind = branch.get("type")
        if isinstance(kind, str):
            kinds.add(kind)
        elif isinstance(kind, list):
            kinds.update(item for item in kind if isinstance(item, str))
    return kinds


def _type_problem(value: Any, allowed: set[str]) -> str | None:
    """Why `value` does not fit `allowed`, for the numeric and boolean cases only; None when it fits."""
    if value is None and "null" in allowed:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number"
    if allowed & _NUMERIC and "string" not in allowed and isinstance(value, bool | str):
        kind = "a boolean" if isinstance(value, bool) else "text"
        return f"{kind}, not a number; give the number itself"
    if "boolean" in allowed and "string" not in allowed and not allowed & _NUMERIC and not isinstance(value, bool):
        return "not a boolean; give true or false"
    return None
