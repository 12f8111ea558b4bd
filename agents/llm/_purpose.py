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
