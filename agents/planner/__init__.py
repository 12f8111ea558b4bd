"""The planner: research documents and a goal in, experiment plans that cite their passages out."""

from agents.planner._documents import DocumentError, Passage, load_documents
from agents.planner._index import PassageIndex
from agents.planner._models import Citation, Plan, PlanningResult
from agents.planner._planner import make_plans, plan_to_task
from agents.planner._rules import extract_values

__all__ = [
    "Citation",
    "DocumentError",
    "Passage",
    "PassageIndex",
    "Plan",
    "PlanningResult",
    "extract_values",
    "load_documents",
    "make_plans",
    "plan_to_task",
]
