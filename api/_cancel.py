"""Cancelling a run on request, from the command line or the REST API."""

from __future__ import annotations

from agents import RunStateError
from runs import TERMINAL_STATUSES, RunStore

CANCEL_REASON = "cancelled on request"


def cancel_once(store: RunStore, run_id: str) -> None:
    """Cancel `run_id`, or raise RunStateError when it had already ended, cancelled included.

    The store's status change is itself the check (only a run that has not ended changes): of two
    cancels racing, or a cancel racing the run's own end, exactly one is told it cancelled the run,
    and the other hears what the run ended as. Reading the status after the write would tell both.

    Raises:
        RunNotFoundError: no run has this id.
        RunStateError: the run had ended before this cancel took effect.
    """
    run = store.get_run(run_id)
    if run.status in TERMINAL_STATUSES:
        raise RunStateError(f"run {run_id} already ended ({run.status})")
    if not store.set_status(run_id, "cancelled", CANCEL_REASON):
        raise RunStateError(f"run {run_id} already ended ({store.get_run(run_id).status})")
