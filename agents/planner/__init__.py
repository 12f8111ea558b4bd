"""The planner: research documents and a goal in, experiment plans that cite their passages out.

A goal no catalog task serves is refused ("no tool for this"), naming the closest tasks considered.
"""

from agents.planner._documents import DocumentError, Passage, load_documents
from agents.planner._index import PassageIndex
from agents.planner._models import Citation, Considered, Plan, PlanningResult, Refusal
from agents.planner._params import extract_values, read_parameters
from agents.planner._planner import GoalError, make_plans, plan_to_task

__all__ = [
    "Citation",
    "Considered",
    "DocumentError",
    "GoalError",
    "Passage",
    "PassageIndex",
    "Plan",
    "PlanningResult",
    "Refusal",
    "extract_values",
    "load_documents",
    "make_plans",
    "plan_to_task",
    "read_parameters",
]
