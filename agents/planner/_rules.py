"""The built-in planner: retrieval plus rules, no model.

A catalog task is chosen when passages relevant to the goal share its distinctive vocabulary
(title, goal, id); parameters are read from those passages with patterns keyed by parameter
name, and kept only when the task's schema has that parameter and accepts the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from agents.planner._documents import Passage
from agents.planner._index import PassageIndex, terms
from agents.planner._models import Citation, Plan
from runs import TaskSpec
from tools import Catalog, TaskError

_NUMBER_LIST = r"((?:\d[\d,]*(?:\.\d+)?(?:\s*(?:,|and|&|or)\s*)?)+)"

# Patterns that read a parameter's values from prose, keyed by parameter name.
PARAMETER_PATTERNS: dict[str, list[str]] = {
    "re": [
        rf"\bRe(?:ynolds)?\s*(?:number)?s?\s*(?:=|of|at)?\s*{_NUMBER_LIST}",
        rf"Reynolds numbers?\s+(?:of\s+|between\s+)?{_NUMBER_LIST}",
    ],
    "cells": [r"\b(\d{2,4})\s*(?:x|×|by)\s*\1\b"],
    "turbulence_model": [r"\b(kEpsilon|kOmegaSST|SpalartAllmaras|k-epsilon|k-omega SST|Spalart-Allmaras)\b"],
}
_MODEL_NAMES = {"k-epsilon": "kEpsilon", "k-omega sst": "kOmegaSST", "spalart-allmaras": "SpalartAllmaras"}


def _numbers(text: str) -> list[float | int]:
    values: list[float | int] = []
    for raw in re.findall(r"\d[\d,]*(?:\.\d+)?", text):
        token = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", raw) else raw.rstrip(",")
        if not token or "," in token:
            continue
        number = float(token)
        values.append(int(number) if number.is_integer() else number)
    return values


def first_match(name: str, text: str) -> int | None:
    """Where in `text` the first value of parameter `name` is stated, if anywhere."""
    starts = [m.start() for p in PARAMETER_PATTERNS.get(name, []) for m in re.finditer(p, text, flags=re.IGNORECASE)]
    return min(starts) if starts else None


def extract_values(name: str, text: str) -> list[Any]:
    found: list[Any] = []
    for pattern in PARAMETER_PATTERNS.get(name, []):
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            group = match.group(1)
            if name == "turbulence_model":
                found.append(_MODEL_NAMES.get(group.lower(), group))
            else:
                found += _numbers(group)
    unique: list[Any] = []
    for value in found:
        if value not in unique:
            unique.append(value)
    return unique


def task_profile(task: TaskSpec) -> str:
    return " ".join([task.id.replace("/", " ").replace("-", " "), task.title, task.goal])


def _citation(passage: Passage, focus: int | None = None) -> Citation:
    """Cite a passage, quoting around `focus` (where a parameter value was read) when given."""
    start = max(0, (focus or 0) - 60)
    quote = " ".join(passage.text[start:].split())[:240]
    prefix = "..." if start else ""
    return Citation(passage=passage.id, source=passage.source, location=passage.location, quote=prefix + quote)


def _schema_names(catalog: Catalog, task: TaskSpec) -> set[str]:
    schema = catalog.workload_for(task).param_schema(task)
    return set(schema.get("properties", {}))


def _accepts(catalog: Catalog, task: TaskSpec, name: str, value: Any) -> bool:
    workload = catalog.workload_for(task)
    try:
        workload.validate_experiment(task, {**task.params, name: value})
    except TaskError:
        return False
    return True


def plan_with_rules(
    catalog: Catalog, goal: str, index: PassageIndex, *, limit: int = 8
) -> tuple[list[Plan], list[Plan]]:
    """Mapped plans (best first) and unmapped ones, for the goal over the indexed passages."""
    query = goal or " ".join(passage.text for passage in index.passages[:3])
    relevant = index.search(query, limit=limit)
    relevant_ids = {passage.id for passage, _ in relevant}
    goal_terms = set(terms(goal))
    plans: list[Plan] = []
    claimed: set[str] = set()
    for task in catalog.tasks().values():
        profile = set(terms(task_profile(task)))
        matches = [(p, s) for p, s in index.search(task_profile(task), limit=limit) if p.id in relevant_ids]
        supporting = [(p, s) for p, s in matches if len(profile & set(terms(p.text))) >= 2]
        if not supporting:
            continue
        score = sum(s for _, s in supporting) * (1.0 + len(profile & goal_terms))
        text = "\n".join(p.text for p, _ in supporting)
        params: dict[str, Any] = {}
        sweep: dict[str, list[Any]] = {}
        names = _schema_names(catalog, task)
        for name in sorted(names & set(PARAMETER_PATTERNS)):
            values = [value for value in extract_values(name, text) if _accepts(catalog, task, name, value)]
            if len(values) > 1 or (values and name in task.sweep):
                sweep[name] = values
            elif values:
                params[name] = values[0]
        shared = sorted(profile & set(terms(text)))
        plans.append(
            Plan(
                task_id=task.id,
                params=params,
                sweep=sweep,
                rationale=f"passages share the task's terms ({', '.join(shared[:8])})"
                + (f"; parameters read from them: {', '.join(sorted({**params, **sweep}))}" if params or sweep else ""),
                citations=[_citation(p, _focus(p.text, {**params, **sweep})) for p, _ in supporting[:4]],
                score=round(score, 3),
            )
        )
        claimed |= {p.id for p, _ in supporting}
    plans.sort(key=lambda plan: -plan.score)
    if plans:
        best = plans[0].score
        plans = [plan for plan in plans if plan.score >= 0.25 * best]
    unclaimed = [(p, s) for p, s in relevant if p.id not in claimed]
    unmapped = []
    if not plans and relevant:
        unmapped.append(_unmapped(goal, [p for p, _ in relevant[:3]]))
    elif (
        unclaimed
        and goal_terms & set(terms(" ".join(p.text for p, _ in unclaimed[:2])))
        and not any(goal_terms & set(terms(task_profile(catalog.get(plan.task_id)))) for plan in plans if plan.task_id)
    ):
        unmapped.append(_unmapped(goal, [p for p, _ in unclaimed[:3]]))
    return plans, unmapped


def _focus(text: str, found: dict[str, Any]) -> int | None:
    positions = [pos for name in found if (pos := first_match(name, text)) is not None]
    return min(positions) if positions else None


def _unmapped(goal: str, passages: Iterable[Passage]) -> Plan:
    cited = [_citation(p) for p in passages]
    return Plan(
        task_id=None,
        rationale=f"the goal '{goal}' is supported by the documents",
        citations=cited,
        unmapped_reason="no task in the catalog (see `agent tasks`) matches these passages",
    )
