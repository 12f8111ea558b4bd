"""The LLM planner: the model drafts plans grounded in retrieved passages; labgate validates them.

A draft must name a catalog task and parameters the task's schema accepts, set only the parameters
documents may state or values the user's goal states (`_provenance`), and cite passages that were
actually retrieved. Invalid drafts go back to the model with the errors, a bounded number of
times; what still fails is dropped with a note. The model never writes shell or case files.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from agents.llm import LLM, LLMError, Message
from agents.planner._documents import Passage
from agents.planner._models import Citation, Plan
from agents.planner._provenance import document_parameters, untrusted_refusal
from runs import TaskSpec
from tools import Catalog, TaskError, apply_overrides, check_param_types


class DraftPlan(BaseModel):
    task_id: str | None = Field(description="a catalog task id, or null when no task fits")
    params: dict[str, Any] = Field(default_factory=dict)
    sweep: dict[str, list[Any]] = Field(default_factory=dict)
    rationale: str = ""
    citations: list[str] = Field(default_factory=list, description="ids of the passages the plan rests on")


class DraftPlans(BaseModel):
    plans: list[DraftPlan]


_SYSTEM = (
    "You are the planner of labgate. From the research passages given, propose experiments that answer "
    "the goal. Each plan must use one of the candidate tasks (retrieved from the catalog for this goal) with "
    "parameters valid under its schema, setting only those listed under 'parameters' (the user alone sets "
    "those under 'set_by_the_user_only', unless the goal states their values), and cite the ids of the "
    "passages it rests on. A task fits only if "
    "the goal's subject (the physical system, the kernel, the theorem) is the task's own; shared generic "
    "words (flow, kernel, faster, prove) are not enough. If no candidate fits, return one plan with task_id "
    "null and say in the rationale what the goal asks for that no task does. Never invent passages or tasks."
)
_TEXT_CHARS = 300


def _catalog_summary(catalog: Catalog, candidates: list[str]) -> list[dict[str, Any]]:
    """The candidate tasks as the model sees them: id, title, goal, defaults, and the parameters a plan
    may set (with their schema); the others are named as the user's to set."""
    summary = []
    for task_id in candidates:
        task = catalog.get(task_id)
        properties = catalog.workload_for(task).param_schema(task).get("properties", {})
        allowed = document_parameters(catalog, task)
        summary.append(
            {
                "id": task.id,
                "title": task.title,
                "goal": task.goal[:_TEXT_CHARS],
                "default_params": task.params,
                "default_sweep": task.sweep,
                "parameters": {name: spec for name, spec in properties.items() if name in allowed},
                "set_by_the_user_only": sorted(name for name in properties if name not in allowed),
            }
        )
    return summary


MAX_PLANS = 8
"""Plans kept from one reply: a model listing hundreds would turn one goal into hundreds of runs."""
MAX_SWEEP_EXPERIMENTS = 64
"""Experiments one plan's sweep may ask for (the product of its value lists)."""
_RATIONALE_CHARS = 600


def check_draft(
    catalog: Catalog,
    draft: DraftPlan,
    passages: dict[str, Passage],
    candidates: list[str] | None = None,
    goal: str = "",
) -> str | None:
    """Why a draft is invalid, or None. `candidates`: the tasks offered to the model (None: any catalog task);
    `goal`: the user's words, whose stated values a draft may carry for any parameter (see `_provenance`)."""
    unknown = [cid for cid in draft.citations if cid not in passages]
    if unknown:
        return f"citations {unknown} are not among the passages given"
    if not draft.citations:
        return "a plan must cite at least one passage"
    if draft.task_id is None:
        return None
    if candidates is not None and draft.task_id not in candidates:
        return f"task {draft.task_id!r} is not among the candidate tasks ({', '.join(candidates)})"
    experiments = 1
    for values in draft.sweep.values():
        experiments *= max(1, len(values))
    if experiments > MAX_SWEEP_EXPERIMENTS:
        return f"the sweep asks for {experiments} experiments; at most {MAX_SWEEP_EXPERIMENTS} per plan"
    try:
        task = catalog.get(draft.task_id)
        refused = untrusted_refusal(catalog, task, draft.params, draft.sweep, goal)
        if refused is not None:
            return refused
        task = _with_overrides(task, draft)
        check_param_types(catalog.workload_for(task), task)  # `re: true` passes lax validation as Re 1
        catalog.validate(task)
    except TaskError as error:
        return str(error)
    return None


def _with_overrides(task: TaskSpec, draft: DraftPlan) -> TaskSpec:
    task = apply_overrides(task)
    task.params.update(draft.params)
    for name in draft.params:  # a value the plan sets replaces the task's sweep of it, and is validated
        task.sweep.pop(name, None)
    for name, values in draft.sweep.items():
        task.sweep[name] = list(values)
        task.params.pop(name, None)
    return task


def plan_with_llm(
    llm: LLM, catalog: Catalog, goal: str, retrieved: list[Passage], candidates: list[str], *, attempts: int = 3
) -> tuple[list[Plan], list[Plan], list[str]]:
    """Plans the model drafts from the passages and the candidate tasks, validated (and repaired)."""
    passages = {p.id: p for p in retrieved}
    user = json.dumps(
        {
            "goal": goal,
            "passages": [{"id": p.id, "source": p.source, "text": p.text} for p in retrieved],
            "candidate_tasks": _catalog_summary(catalog, candidates),
        },
        separators=(",", ":"),
    )
    messages = [Message("system", _SYSTEM), Message("user", user)]
    notes: list[str] = []
    for _ in range(attempts):
        try:
            drafts = llm.structured(messages, DraftPlans)
        except LLMError as error:
            notes.append(f"the model gave no usable plan: {error}")
            return [], [], notes
        if len(drafts.plans) > MAX_PLANS:
            notes.append(f"kept the first {MAX_PLANS} of the {len(drafts.plans)} plans the model drafted")
            drafts = DraftPlans(plans=drafts.plans[:MAX_PLANS])
        problems = {
            index: check_draft(catalog, draft, passages, candidates, goal) for index, draft in enumerate(drafts.plans)
        }
        bad = {index: problem for index, problem in problems.items() if problem}
        if not bad:
            return (*_as_plans(drafts.plans, passages, llm.model), notes)
        messages = [
            *messages,
            Message("assistant", drafts.model_dump_json()),
            Message("user", "Fix these plans: " + "; ".join(f"plan {i}: {p}" for i, p in bad.items())),
        ]
    valid = [draft for index, draft in enumerate(drafts.plans) if not problems[index]]
    notes += [f"dropped an invalid plan: {problem}" for problem in bad.values()]
    return (*_as_plans(valid, passages, llm.model), notes)


def _as_plans(drafts: list[DraftPlan], passages: dict[str, Passage], model: str) -> tuple[list[Plan], list[Plan]]:
    mapped: list[Plan] = []
    unmapped: list[Plan] = []
    for draft in drafts:
        citations = [
            Citation(passage=p.id, source=p.source, location=p.location, quote=" ".join(p.text.split())[:240])
            for p in (passages[cid] for cid in draft.citations)
        ]
        plan = Plan(
            task_id=draft.task_id,
            params=draft.params,
            sweep=draft.sweep,
            rationale=f"{model}: {draft.rationale[:_RATIONALE_CHARS]}",
            citations=citations,
            unmapped_reason="" if draft.task_id else f"no available tool: {draft.rationale[:_RATIONALE_CHARS]}",
        )
        (mapped if draft.task_id else unmapped).append(plan)
    return mapped, unmapped
