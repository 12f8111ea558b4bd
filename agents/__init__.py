"""The orchestrator: plans experiments, dispatches them to tools, applies gates, revises, writes up.

Workloads plug their proposers in through the `labgate.proposers` entry-point group (see
`agents.Proposer`); experiments execute against `agents.Execution`, locally or on a Ray worker.

The write-up (Markdown rendering) and the CFD search policy are imported on first use: a run needs
them only after its first experiments, and commands that only read the store never do.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from agents._context import (
    ProgressReporter,
    RunCancelledError,
    RunContext,
    RunInterruptedError,
    SilentReporter,
    interrupt_run,
)
from agents._execution import Execution
from agents._experiments import fresh_directory
from agents._graph import Orchestrator, RunState
from agents._liveness import executed_elsewhere, interrupted_by_its_user, process_alive_here, stopped
from agents._policy import (
    BuiltinRevisionPolicy,
    JudgedExperiment,
    LLMRevisionPolicy,
    RevisionPolicy,
    default_policy,
)
from agents._proposer import Proposer, policy_for, proposer_for
from agents._runner import (
    CANCEL_GRACE_SECONDS,
    CANCEL_REASON,
    RunLauncher,
    RunOptions,
    RunStateError,
    RunSummary,
    cancel_run,
    refuse_renamed_subject,
    stop_unresponsive,
    summarize,
)

if TYPE_CHECKING:
    from agents._markdown import (
        LinkTarget,
        cited_verdict,
        linked_artifact,
        render_markdown,
        show_invisible,
        small_print,
    )
    from agents._writer import RATIONALE_LABEL, write_report
    from agents.cfd_search import SearchRevisionPolicy

_LAZY = {
    "render_markdown": "agents._markdown",
    "LinkTarget": "agents._markdown",
    "cited_verdict": "agents._markdown",
    "linked_artifact": "agents._markdown",
    "show_invisible": "agents._markdown",
    "small_print": "agents._markdown",
    "write_report": "agents._writer",
    "RATIONALE_LABEL": "agents._writer",
    "SearchRevisionPolicy": "agents.cfd_search",
}
"""Exported names whose modules load on first access (markdown-it, the search proposers)."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agents' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CANCEL_GRACE_SECONDS",
    "CANCEL_REASON",
    "RATIONALE_LABEL",
    "BuiltinRevisionPolicy",
    "Execution",
    "JudgedExperiment",
    "LLMRevisionPolicy",
    "LinkTarget",
    "Orchestrator",
    "ProgressReporter",
    "Proposer",
    "RevisionPolicy",
    "RunCancelledError",
    "RunContext",
    "RunInterruptedError",
    "RunLauncher",
    "RunOptions",
    "RunState",
    "RunStateError",
    "RunSummary",
    "SearchRevisionPolicy",
    "SilentReporter",
    "cancel_run",
    "cited_verdict",
    "default_policy",
    "executed_elsewhere",
    "fresh_directory",
    "interrupt_run",
    "interrupted_by_its_user",
    "linked_artifact",
    "policy_for",
    "process_alive_here",
    "proposer_for",
    "refuse_renamed_subject",
    "render_markdown",
    "show_invisible",
    "small_print",
    "stop_unresponsive",
    "stopped",
    "summarize",
    "write_report",
]
