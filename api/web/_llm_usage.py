"""Where a run's model calls went: calls, tokens and seconds per node, from its `llm` events.

Each call the run's model client completes is recorded as an event of kind `llm` naming the node
that made it (planner, revise, proposer, proof draft, write-up, vision); the run page sums them so a
slow or expensive node shows at a glance, next to the run's total.
"""

from __future__ import annotations

from dataclasses import dataclass

from api._detail import checked_event
from api.web._render import finite
from runs import RunStore

NODE_ORDER = ("planner", "proposer", "proof draft", "vision", "revise", "write-up")
"""Rows in the order a run reaches its nodes; any other label follows, alphabetically."""

LLM_KIND = "llm"
MAX_EVENTS = 100_000


@dataclass
class NodeUsage:
    node: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def mean_seconds(self) -> float:
        return self.seconds / self.calls if self.calls else 0.0


def _number(value: object) -> float:
    """A usage figure as the model server reported it; 0 when it is no finite number."""
    return finite(value) or 0.0


def llm_usage(store: RunStore, run_id: str) -> list[NodeUsage]:
    """One row per node that called the model, in run order; empty when the run made no recorded call."""
    rows: dict[str, NodeUsage] = {}
    for event in map(checked_event, store.events(run_id, 0, MAX_EVENTS, kind=LLM_KIND)):
        node = str(event.data.get("purpose") or "other")
        row = rows.setdefault(node, NodeUsage(node))
        row.calls += 1
        row.prompt_tokens += int(_number(event.data.get("prompt_tokens")))
        row.completion_tokens += int(_number(event.data.get("completion_tokens")))
        row.seconds += _number(event.data.get("seconds"))
    rank = {node: index for index, node in enumerate(NODE_ORDER)}
    return sorted(rows.values(), key=lambda row: (rank.get(row.node, len(rank)), row.node))


def usage_total(rows: list[NodeUsage]) -> NodeUsage:
    total = NodeUsage("total")
    for row in rows:
        total.calls += row.calls
        total.prompt_tokens += row.prompt_tokens
        total.completion_tokens += row.completion_tokens
        total.seconds += row.seconds
    return total
