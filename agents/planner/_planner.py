"""Documents and a goal in, validated plans (or a refusal naming the closest tasks) out; a plan made runnable."""

from __future__ import annotations

from pathlib import Path

from agents.llm import LLM
from agents.planner._documents import read_documents
from agents.planner._index import PassageIndex
from agents.planner._llm import DraftPlan, _with_overrides, plan_with_llm
from agents.planner._match import matcher_for
from agents.planner._models import Plan, PlanningResult, Refusal
from agents.planner._provenance import untrusted_refusal
from agents.planner._rules import plan_with_rules, refusal
from runs import LabgateError, TaskSpec
from tools import Catalog, TaskError

_LLM_PASSAGES = 12
_LLM_CANDIDATES = 6


class GoalError(LabgateError, ValueError):
    """The goal cannot be planned at all (it is empty): bad input, not a refusal."""


def _llm_candidates(catalog: Catalog, goal: str) -> tuple[list[str], Refusal | None]:
    """The tasks the model may choose from: those the goal's words retrieve, chosen ones first."""
    match = matcher_for(catalog).match(goal)
    ids = list(dict.fromkeys(c.task_id for c in [*match.chosen, *match.closest]))[:_LLM_CANDIDATES]
    return ids, None if match.chosen else refusal(match)


def make_plans(catalog: Catalog, documents: Path, goal: str, llm: LLM | None = None) -> PlanningResult:
    """Plans for `goal` grounded in the documents under `documents`, best first, or a refusal.

    Raises:
        GoalError: the goal is empty.
        DocumentError: the documents cannot be read.
    """
    goal = " ".join(goal.split())
    if not goal:
        raise GoalError(
            "the goal is empty: say what to study, e.g. 'validate the solver on the lid-driven cavity' "
            "(see `agent tasks` for what the catalog runs)"
        )
    reading = read_documents(documents)
    passages = reading.passages
    index = PassageIndex(passages)
    sources = {p.source for p in passages}
    notes: list[str] = list(reading.notes)
    calls = tokens = 0
    if llm is not None:
        before = llm.usage  # totals shared with whatever else used this client: count the difference
        calls, tokens = -before.calls, -before.total_tokens
        # The passages most relevant to the goal first, then the rest while the prompt stays small.
        ranked = [p for p, _ in index.search(goal, limit=_LLM_PASSAGES)]
        ranked += [p for p in passages if p not in ranked][: max(0, _LLM_PASSAGES - len(ranked))]
        candidates, refused = _llm_candidates(catalog, goal)
        if candidates:
            plans, unmapped, model_notes = plan_with_llm(llm, catalog, goal, ranked, candidates)
            notes += model_notes  # after what the documents' reading noted (files not read), never instead of it
        else:
            plans, unmapped = [], []
            notes.append("no catalog task shares a word with the goal: the model was not asked")
        if plans:
            refused = None
        elif refused is None:
            said = "; ".join(plan.unmapped_reason for plan in unmapped)
            refused = Refusal(reason=said or "the model found no candidate task that serves the goal")
        planner = llm.model
        after = llm.usage
        calls, tokens = calls + after.calls, tokens + after.total_tokens
    else:
        plans, unmapped, refused = plan_with_rules(catalog, goal, index)
        planner = "builtin (retrieval + rules)"
    if refused is not None and not unmapped:
        unmapped = [Plan(task_id=None, rationale=goal, unmapped_reason=refused.describe())]
    return PlanningResult(
        goal=goal,
        planner=planner,
        documents=len(sources),
        passages=len(passages),
        plans=plans,
        unmapped=unmapped,
        notes=notes,
        refusal=refused,
        llm_calls=calls,
        llm_tokens=tokens,
    )


def plan_to_task(catalog: Catalog, plan: Plan, goal: str) -> TaskSpec:
    """The catalog task with the plan's parameters, the user's goal, validated.

    A plan is drafted from documents (and by a model), so it may carry only the parameters those may
    set or the values the goal states (`_provenance`); the user sets the rest after planning (`--param`).

    Raises:
        TaskError: the plan names no task, sets a parameter only the user sets, or is invalid.
    """
    if plan.task_id is None:
        raise TaskError(f"no available tool for this plan: {plan.unmapped_reason}")
    base = catalog.get(plan.task_id)
    refused = untrusted_refusal(catalog, base, plan.params, plan.sweep, " ".join(goal.split()))
    if refused is not None:
        raise TaskError(f"the plan for {plan.task_id} is refused: {refused}")
    task = _with_overrides(base, DraftPlan(task_id=plan.task_id, params=plan.params, sweep=plan.sweep))
    if goal:
        task.goal = goal
    catalog.validate(task)
    return task
