"""The steps of a search, one at a time: a kernel search's candidates and a proof search's drafts.

Both searches log one JSON line per step (`search.jsonl`, the proof search's log). The run page
lists the steps compactly; each one's text (a candidate's source and its diff to its parent, a
draft with the error and goal where it failed) is rendered here when a reviewer opens it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from api.web._render import TEXT_LIMIT, diff_html, highlighted
from runs import Artifact, ArtifactNotFoundError, RunStore, json_objects

JSONL_LIMIT = 8 << 20
"""The largest search log read; a larger one stays a download."""
SOURCE_KEYS = ("source", "draft", "script", "text")
"""Where a log line keeps the text it checked, most specific first."""


def read_entries(store: RunStore, artifact: Artifact) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL artifact, one per line in order (lines that are not objects are skipped)."""
    if not artifact.name.endswith(".jsonl") or artifact.size > JSONL_LIMIT:
        return []
    try:
        with store.artifacts.open_path(artifact.sha256).open("rb") as handle:
            data = handle.read(JSONL_LIMIT)
    except (ArtifactNotFoundError, OSError):
        return []
    return json_objects(data.decode("utf-8", errors="replace"))


LARGEST_INDEX = 2**53
"""Indices beyond this are not exact as floats (the plot's x axis): such a line is placed by its position."""


def entry_index(entry: dict[str, Any], position: int) -> int:
    """Which evaluation a log line is: its `index` when that is a whole number of sensible size, else its position.

    The line is written beside a candidate's own output; an index that is text, a list, NaN or 1e400
    must place the point somewhere, never stop the page.
    """
    index = entry.get("index", position)
    if isinstance(index, int) and not isinstance(index, bool) and abs(index) <= LARGEST_INDEX:
        return index
    return position


def fitness_of(entry: dict[str, Any]) -> float | None:
    """A log line's fitness as a float; None when absent, not a number, or an integer too large for a float."""
    value = entry.get("fitness")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def has_text(entry: dict[str, Any]) -> bool:
    """Whether a log line kept the text it checked (a draft, a candidate's source) or the goal it stopped at."""
    return _text(entry) is not None or bool(entry.get("goal"))


def _text(entry: dict[str, Any]) -> str | None:
    for key in SOURCE_KEYS:
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass
class Candidate:
    """One evaluated kernel, as listed under the fitness plot."""

    index: int
    parent: int | None
    status: str
    fitness: float | None
    note: str
    anchor: str
    fragment: str


def candidates(entries: list[dict[str, Any]], artifact: Artifact, prefix: str) -> list[Candidate]:
    found = []
    for position, entry in enumerate(entries):
        if fitness_of(entry) is None and "status" not in entry:
            continue
        index = entry_index(entry, position)
        parent = entry.get("parent")
        found.append(
            Candidate(
                index=index,
                parent=parent if isinstance(parent, int) else None,
                status=str(entry.get("status", "")),
                fitness=fitness_of(entry),
                note=str(entry.get("note", ""))[:200],
                anchor=f"{prefix}-candidate-{index}",
                fragment=f"/ui/artifacts/{artifact.id}/entries/{position}",
            )
        )
    return found


@dataclass
class StepDetail:
    """What the fragment for one logged step shows."""

    kind: str  # candidate | draft | other
    title: str
    source: Markup | None = None
    diff: Markup | None = None
    diff_label: str = ""
    sizes_header: list[str] = field(default_factory=list)
    sizes: list[list[str]] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    feedback: str = ""
    error: str = ""
    goal: str = ""
    note: str = ""


SIZE_COLUMNS = ("label", "dims", "correct", "seconds", "best_seconds", "gbps", "gflops", "fraction", "bound", "error")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "×".join(str(v) for v in value)
    return "" if value is None else str(value)


def _source_markup(text: str, name: str, kind: str) -> tuple[Markup, str]:
    return highlighted(name, kind, text.encode()[: TEXT_LIMIT + 1])


def step_detail(entries: list[dict[str, Any]], position: int) -> StepDetail:
    """One line of a search log, fully: raises IndexError for a line that is not there."""
    entry = entries[position]
    text = _text(entry)
    if fitness_of(entry) is not None or ("status" in entry and "index" in entry):
        index = entry.get("index", position)
        detail = StepDetail("candidate", f"candidate {index}")
        detail.facts = [
            (name, _cell(entry.get(name)))
            for name in ("index", "parent", "status", "fitness", "note", "input_seed")
            if entry.get(name) not in (None, "")
        ]
        if isinstance(entry.get("params"), dict) and entry["params"]:
            detail.facts.append(("launch", ", ".join(f"{k}={v}" for k, v in entry["params"].items())))
        sizes = entry.get("sizes")
        if isinstance(sizes, list) and sizes and all(isinstance(s, dict) for s in sizes):
            detail.sizes_header = [c for c in SIZE_COLUMNS if any(c in s for s in sizes)]
            detail.sizes = [[_cell(s.get(c)) for c in detail.sizes_header] for s in sizes]
        detail.feedback = str(entry.get("feedback") or "")
        if text is not None:
            detail.source, detail.note = _source_markup(text, "candidate.cl", "kernel")
            parent = entry.get("parent")
            parent_entry = next(
                (e for e in entries if isinstance(parent, int) and e.get("index") == parent and _text(e) is not None),
                None,
            )
            if parent_entry is not None:
                detail.diff = diff_html(str(_text(parent_entry)), text, f"candidate {parent}", f"candidate {index}")
                detail.diff_label = f"diff of candidate {index} to its parent, candidate {parent}"
        return detail
    kind = str(entry.get("kind", "step"))
    detail = StepDetail("draft" if text is not None else "other", f"{kind} of {entry.get('origin') or 'the search'}")
    detail.facts = [
        (name, _cell(entry.get(name)))
        for name in ("attempt", "kind", "origin", "step", "ok", "diagnosis", "replaced", "tactic", "seconds")
        if entry.get(name) not in (None, "")
    ]
    detail.error = str(entry.get("error") or "")
    detail.goal = str(entry.get("goal") or "")
    if text is not None:
        detail.source, detail.note = _source_markup(text, "draft.txt", "proof")
    return detail
