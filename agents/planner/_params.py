"""Reading a task's parameters from a goal or a passage, as its parameter schema and workload allow.

Three readers, each kept only for parameters the task's schema has, and each value kept only when the
task's workload accepts it:
- the workload's prose patterns (`Workload.prose_patterns`: "Reynolds numbers of 100 and 400");
- enumerated values the schema lists ("with kOmegaSST", "k-omega SST"), when the value is spelled as an
  identifier or the parameter is named next to it (so "the best kernel" does not set `selection=best`);
- numbers next to a numeric parameter's name ("200 evaluations", "refinement 0.5", "cells_x = 60").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from agents.planner._numbers import Convention, plain_numbers
from agents.planner._words import words
from runs import TaskSpec
from tools import Catalog, ProsePattern, TaskError

_NUMBER = r"(\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?)"


def _numbers(text: str) -> list[float | int]:
    values: list[float | int] = []
    for found in re.findall(r"\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?", text):
        raw = found.rstrip(",")
        token = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+(?:\.\d+)?", raw) else raw
        if not token or "," in token:
            continue
        number = float(token)
        values.append(int(number) if number.is_integer() else number)
    return values


def first_match(pattern: ProsePattern, text: str) -> int | None:
    """Where in `text` the first value `pattern` reads is stated, if anywhere."""
    starts = [m.start() for p in pattern.regexes for m in re.finditer(p, text, flags=re.IGNORECASE)]
    return min(starts) if starts else None


def extract_values(pattern: ProsePattern, text: str) -> list[Any]:
    """Every value of one parameter stated in `text`, in order of appearance per regex, without repeats."""
    found: list[Any] = []
    for regex in pattern.regexes:
        for match in re.finditer(regex, text, flags=re.IGNORECASE):
            group = match.group(1)
            if pattern.values == "word":
                found.append(pattern.canonical(group))
            else:
                found += _numbers(group)
    return _unique(found)


def _unique(values: list[Any]) -> list[Any]:
    unique: list[Any] = []
    for value in values:
        if value not in unique:
            unique.append(value)
    return unique


def _spelled_as_identifier(value: str) -> bool:
    """kOmegaSST, one-plus-one, d2q9: not a plain word of prose."""
    return bool(re.search(r"[a-z][A-Z]|[-_]|\d", value))


def _name_pattern(name: str) -> str:
    parts = [re.escape(part) for part in name.split("_") if part]
    return r"[\s_-]*".join(parts) + r"e?s?"


def _enum_values(name: str, enum: list[Any], text: str) -> list[tuple[int, Any]]:
    """(character position, value) for each listed value the text states (see the module docstring).

    In the order the text states them; the position is approximate (where the value's first word
    starts), which is all a citation's quote needs.
    """
    sequence = list(words(text).sequence)
    name_words = set(words(name.replace("_", " ")).sequence)
    found: list[tuple[int, int, Any]] = []
    for value in enum:
        if not isinstance(value, str):
            continue
        target = "".join(words(value).sequence)
        for start in range(len(sequence)):
            for size in (1, 2, 3):
                if "".join(sequence[start : start + size]) != target:
                    continue
                near = set(sequence[max(0, start - 3) : start + size + 3])
                if _spelled_as_identifier(value) or name_words & near:
                    found.append((start, max(0, text.lower().find(sequence[start][:3])), value))
    return [(position, value) for _, position, value in sorted(found, key=lambda item: item[0])]


def _named_numbers(name: str, text: str) -> list[tuple[int, float | int]]:
    """(position, value) for numbers stated next to the parameter's name."""
    spelled = _name_pattern(name)
    found: list[tuple[int, float | int]] = []
    for regex in (rf"\b{_NUMBER}\s+{spelled}\b", rf"\b{spelled}\s*(?:=|:|of|to|at)?\s*{_NUMBER}"):
        for match in re.finditer(regex, text, flags=re.IGNORECASE):
            found += [(match.start(), value) for value in _numbers(match.group(1))]
    return sorted(found, key=lambda item: item[0])


_SETTING_VALUE = r"[ \t]*[:=][ \t]*\[?[ \t]*([^\n\]]*?)[ \t]*\]?[ \t]*$"


def _settings(name: str, pattern: ProsePattern | None, text: str) -> list[tuple[int, Any]]:
    """(position, value) for lines that set the parameter as a file of settings does: front matter
    (`re: 5000`), a config line (`cells = 128`), a YAML list (`re: [100, 400]`).

    The whole line must be the setting: `Re: 3 questions about the cavity` (a mail's subject) sets
    nothing, because a numeric value is only numbers and a word value is one word.
    """
    found: list[tuple[int, Any]] = []
    regex = rf"^[ \t]*{_name_pattern(name)}{_SETTING_VALUE}"
    for match in re.finditer(regex, text, flags=re.IGNORECASE | re.MULTILINE):
        value = match.group(1).strip().strip("\"'")
        if not value:
            continue
        if pattern is not None and pattern.values == "word":
            if re.fullmatch(r"[\w-]+", value):
                found.append((match.start(), pattern.canonical(value)))
        elif re.fullmatch(r"[\d.,eE+\s-]+", value) and re.search(r"\d", value):
            found += [(match.start(), number) for number in _numbers(value)]
        elif re.fullmatch(r"[\w-]+", value) and not value[0].isdigit():
            found.append((match.start(), value))
    return found


def accepts(catalog: Catalog, task: TaskSpec, name: str, value: Any) -> bool:
    """Whether the task's workload accepts `value` for parameter `name`."""
    try:
        catalog.workload_for(task).validate_experiment(task, {**task.params, name: value})
    except TaskError:
        return False
    return True


def read_parameters(
    catalog: Catalog,
    task: TaskSpec,
    text: str,
    only: Collection[str] | None = None,
    decimals: Convention | None = None,
) -> dict[str, tuple[int, list[Any]]]:
    """Parameter name -> (where it is first stated, the accepted values stated) for what `text` states.

    `only`: the parameters `text` may set (a document's, see `_provenance`); None: any (the user's goal).
    `decimals`: how the document `text` comes from writes decimals (`_numbers`); None: as `text` shows.
    Numbers are read in their plain spelling, so a position is where the value is stated give or take
    the few characters a respelled number ("5 600", "5.6e3") is shorter: enough to quote around.
    """
    text = plain_numbers(text, decimals)
    workload = catalog.workload_for(task)
    properties = workload.param_schema(task).get("properties", {})
    patterns: Mapping[str, ProsePattern] = workload.prose_patterns()
    found: dict[str, tuple[int, list[Any]]] = {}
    for name, spec in sorted(properties.items()):
        if only is not None and name not in only:
            continue
        stated: list[tuple[int, Any]] = []
        if name in patterns:
            position = first_match(patterns[name], text)
            if position is not None:
                stated = [(position, value) for value in extract_values(patterns[name], text)]
        elif isinstance(spec, dict) and spec.get("enum"):
            stated = _enum_values(name, list(spec["enum"]), text)
        elif isinstance(spec, dict) and spec.get("type") in ("integer", "number") and len(name) > 2:
            stated = _named_numbers(name, text)
        stated += _settings(name, patterns.get(name), text)
        values = _unique([value for _, value in stated if accepts(catalog, task, name, value)])
        if values:
            found[name] = (min(position for position, _ in stated), values)
    return found
