"""The latest solver progress of each experiment, from the run's `progress` events.

A running CFD experiment announces its simulated time, time step and residuals every few seconds; the
run page shows only the newest line per experiment (the stream updates it in place), not every event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from runs import Event

PROGRESS_KIND = "progress"


@dataclass(frozen=True)
class Progress:
    """One experiment's newest progress line, as the page shows it."""

    summary: str
    created: str


def latest_progress(events: Iterable[Event]) -> dict[str, Progress]:
    """Experiment key to its newest progress (later events win); events without a key are skipped."""
    latest: dict[str, Progress] = {}
    for event in events:
        if event.kind != PROGRESS_KIND:
            continue
        key = event.data.get("key")
        if isinstance(key, str) and key:
            summary = event.data.get("summary")
            text = summary if isinstance(summary, str) and summary else event.message
            latest[key] = Progress(text[:500], event.created_at.isoformat()[11:19])
    return latest
