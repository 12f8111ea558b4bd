"""A red-team pass on what a model's plan may carry: a parameter of another JSON type than the task declares.

`{"task_id": "cfd/cavity", "params": {"re": true}}` passed the task's (lax) validation as Re 1 and was kept as
written, so the run would have recorded `re: true` and solved at Re 1; `"re": "1e3"` was kept as text. A plan's
values are held to their declared types as the command line's and the REST API's are (`check_param_types`).
"""

from __future__ import annotations

import json

import pytest

from agents.planner import make_plans
from api._settings import Settings, build_catalog
from tests.llm_server import Reply, Rule, ScriptedLLMServer
from tests.test_redteam_llm import CAVITY_GOAL, CORPUS, client

CITE = ["cavity-study.md#2"]


@pytest.mark.parametrize(
    ("params", "said"),
    [({"re": True}, "a boolean, not a number"), ({"re": "1e3"}, "text, not a number")],
)
def test_a_plan_parameter_of_another_type_is_dropped_with_the_reason(params: dict[str, object], said: str) -> None:
    body = json.dumps({"plans": [{"task_id": "cfd/cavity", "citations": CITE, "params": params}]})
    with ScriptedLLMServer([Rule("You are the planner", [Reply(content=body)])]) as server:
        result = make_plans(build_catalog(Settings()), CORPUS, CAVITY_GOAL, client(server.url))
    assert not any(plan.params.get("re") in (True, "1e3") for plan in result.plans)
    assert any(said in note for note in result.notes), result.notes
