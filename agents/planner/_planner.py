"""Documents and a goal in, validated plans out; and a plan turned into a runnable task."""

from __future__ import annotations

from pathlib import Path

from agents.llm import LLM
from agents.planner._documents import load_documents
from agents.planner._index import PassageIndex
from agents.planner._llm import DraftPlan, _with_overrides, plan_with_llm
from agents.planner._models import Plan, PlanningResult
from agents.planner._rules import plan_with_rules
from runs import TaskSpec
from tools import Catalog, TaskError

_LLM_PASSAGES = 12


def make_plans(catalog: Catalog, documents: Path, goal: str, llm: LLM | None = None) -> PlanningResult:
    passages = load_documents(documents)
    index = PassageIndex(passages)
    sources = {p.source for p in passages}
    if llm is not None:
        # The passages most relevant to the goal first, then the rest while the prompt stays small.
        ranked = [p for p, _ in index.search(goal or " ".join(p.text for p in passages[:2]), limit=_LLM_PASSAGES)]
        ranked += [p for p in passages if p not in ranked][: max(0, _LLM_PASSAGES - len(ranked))]
        plans, unmapped, notes = plan_with_llm(llm, catalog, goal, ranked)
        planner = llm.model
    else:
        plans, unmapped = plan_with_rules(catalog, goal, index)
        notes = []
        planner = "builtin (retrieval + rules)"
    return PlanningResult(
        goal=goal,
        planner=planner,
        documents=len(sources),
        passages=len(passages),
        plans=plans,
        unmapped=unmapped,
        notes=notes,
    )


def plan_to_task(catalog: Catalog, plan: Plan, goal: str) -> TaskSpec:
    """The catalog task with the plan's parameters, the user's goal, validated."""
    if plan.task_id is None:
        raise TaskError(f"no available tool for this plan: {plan.unmapped_reason}")
    task = _with_overrides(
        catalog.get(plan.task_id), DraftPlan(task_id=plan.task_id, params=plan.params, sweep=plan.sweep)
    )
    if goal:
        task.goal = goal
    catalog.validate(task)
    return task
