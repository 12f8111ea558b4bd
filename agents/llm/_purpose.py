"""Which part of labgate a model call is made for, so its tokens and seconds are accounted per node.

The caller that knows (the executor running an experiment's proposer, a command planning runs)
sets the purpose around its work; a usage hook reads it when each call completes. A context
variable follows the code that runs under it, thread by thread, so concurrent experiments and the
orchestrator's own nodes never mix their labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from agents.llm._base import Completion

_purpose: ContextVar[str] = ContextVar("labgate_llm_purpose", default="")


@contextmanager
def llm_purpose(name: str) -> Iterator[None]:
    """Label every model call made inside the block (in this thread) with `name`."""
    token = _purpose.set(name)
    try:
        yield
    finally:
        _purpose.reset(token)


def current_purpose() -> str:
    """The innermost purpose set around the running code, or "" when none was."""
    return _purpose.get()


def call_purpose(workload: str, fallback: str = "other") -> str:
    """The label a call is accounted under: the purpose set around it, else `fallback`.

    A proof search's proposer drafts proofs, so its calls are "proof draft".
    """
    purpose = current_purpose() or fallback
    if purpose == "proposer" and workload == "proofs":
        return "proof draft"
    return purpose


def call_event(purpose: str, completion: Completion) -> tuple[str, dict[str, Any]]:
    """The `llm` event recorded for one completed call: its message and data, wherever the call ran."""
    message = (
        f"{purpose}: {completion.prompt_tokens} tokens in, {completion.completion_tokens} out, "
        f"{completion.seconds:.1f} s"
    )
    return message, {
        "purpose": purpose,
        "model": completion.model,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "seconds": round(completion.seconds, 3),
        "structured_mode": completion.structured_mode,
        "cost": completion.cost,
    }
