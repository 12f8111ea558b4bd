"""What the run page shows, assembled from the store without knowing any one workload.

Experiments, verdicts and artifacts render generically by artifact kind (image, log, source,
table, kernel, proof, data...); long text and tables are left to fragments fetched when opened,
so a run page stays small however much its solvers logged. Views appear only where their data
exists: a kernel search (kernel artifacts, or a JSONL log whose lines carry a `fitness`) gets a
fitness plot whose points open each candidate, and the diff from seed to best; a run with `proof`
artifacts gets its attempt history, each failing draft one click away, and the final proof; a
paused run lists the experiments its plan waits to run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from api._detail import checked_artifact, checked_event, run_detail, shown_spec
from api._paths import without_server_paths
from api.web._llm_usage import LLM_KIND, llm_usage, usage_total
from api.web._progress import PROGRESS_KIND, latest_progress
from api.web._render import TEXT_LIMIT, diff_html, finite, highlighted, line_plot, parse_table, report_html
from api.web._searches import Candidate, candidates, entry_index, fitness_of, has_text, read_entries
from runs import Artifact, ArtifactNotFoundError, Event, RecordedVerdict, RunStore

MAX_LISTED_EVENTS = 2000
"""Events listed on a run page; the stream brings the rest."""

INLINE_TEXT_KINDS = {"log", "source", "kernel", "proof"}


@dataclass
class ArtifactView:
    record: Artifact
    display: str  # image | text | table | link
    html: Markup | None = None
    note: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    total_rows: int = 0
    lazy: bool = False

    @property
    def fragment(self) -> str:
        return f"/ui/artifacts/{self.record.id}"

    @property
    def url(self) -> str:
        # Under this record's own name and type: other records of the same bytes may name them otherwise.
        return f"/artifacts/{self.record.sha256}?artifact={self.record.id}"

    @property
    def role(self) -> str:
        return self.record.produced_by.split(":", 1)[-1] if self.record.produced_by else self.record.kind

    @property
    def anchor(self) -> str:
        return f"artifact-{self.record.id}"

    @property
    def short_name(self) -> str:
        return self.record.name.split("/", 1)[-1] if "/" in self.record.name else self.record.name


@dataclass
class KernelView:
    plot: Markup | None = None
    points: int = 0
    best_fitness: float | None = None
    diff: Markup | None = None
    seed_name: str = ""
    best_name: str = ""
    candidates: list[Candidate] = field(default_factory=list)
    hidden: int = 0
    """Candidates of the log not listed (`CANDIDATES_SHOWN`)."""


CANDIDATES_SHOWN = 400
"""The most candidates a run page lists: the first half of them, then the best."""


def verdicts_of(record: dict[str, Any]) -> list[RecordedVerdict]:
    """An experiment record's verdicts (as `run_detail` lists them, server paths removed) in their own shape."""
    return [RecordedVerdict.model_validate(verdict) for verdict in record["verdicts"]]


@dataclass
class ExperimentView:
    record: dict[str, Any]
    artifacts: list[ArtifactView]
    evidence: dict[str, ArtifactView]
    kernel: KernelView | None = None
    verdicts: list[RecordedVerdict] = field(default_factory=list)

    def of(self, display: str) -> list[ArtifactView]:
        return [a for a in self.artifacts if a.display == display]


def read_artifact(store: RunStore, sha: str, limit: int) -> bytes:
    """Up to `limit` bytes of a stored artifact; empty when it is missing (the page then shows less)."""
    try:
        with store.artifacts.open_path(sha).open("rb") as handle:
            return handle.read(limit)
    except (ArtifactNotFoundError, OSError):
        return b""


def _read_tail(store: RunStore, sha: str, limit: int) -> bytes:
    try:
        path = store.artifacts.open_path(sha)
        with path.open("rb") as handle:
            size = path.stat().st_size
            handle.seek(max(0, size - limit))
            return handle.read()
    except (ArtifactNotFoundError, OSError):
        return b""


EAGER_KINDS = {"kernel", "proof"}
"""Text shown as the page loads (the result itself); other logs, sources and tables load when opened."""


def artifact_view(store: RunStore, artifact: Artifact, *, lazy: bool = True) -> ArtifactView:
    """How the page shows an artifact; `lazy` leaves the contents of long text and tables to a fragment
    (`/ui/artifacts/{id}`) fetched when its section is opened, which keeps a run page small. A row whose
    size another program made text is named as damaged (the fragment is reached without `run_detail`)."""
    kind, media = checked_artifact(artifact).kind, artifact.media_type
    if kind == "image" or media.startswith("image/"):
        return ArtifactView(artifact, "image")
    if lazy and kind not in EAGER_KINDS:
        if kind == "table" and artifact.size <= 4 * TEXT_LIMIT:
            return ArtifactView(artifact, "table", lazy=True)
        if kind in INLINE_TEXT_KINDS or (kind == "data" and artifact.size <= TEXT_LIMIT):
            return ArtifactView(artifact, "text", lazy=True)
        return ArtifactView(artifact, "link")
    if kind == "table" and artifact.size <= 4 * TEXT_LIMIT:
        header, rows, total = parse_table(read_artifact(store, artifact.sha256, TEXT_LIMIT))
        if rows:
            return ArtifactView(artifact, "table", header=header, rows=rows, total_rows=total)
    if kind in INLINE_TEXT_KINDS or (kind == "data" and artifact.size <= TEXT_LIMIT):
        data = (
            _read_tail(store, artifact.sha256, 2 * TEXT_LIMIT)
            if kind == "log"
            else read_artifact(store, artifact.sha256, TEXT_LIMIT + 1)
        )
        if b"\x00" not in data[:4096]:
            markup, note = highlighted(artifact.name, kind, data)
            if kind == "log" and artifact.size > len(data):
                note = note or "end of the log shown"
            elif len(data) > TEXT_LIMIT:
                note = note or f"first {TEXT_LIMIT // 1024} KiB shown"
            return ArtifactView(artifact, "text", html=markup, note=note)
    return ArtifactView(artifact, "link")


def kernel_view(store: RunStore, artifacts: list[Artifact], prefix: str = "kernel") -> KernelView | None:
    """Fitness over the search, every candidate (a plot point links to it) and the diff from seed to best."""
    kernels = [a for a in artifacts if a.kind == "kernel"]
    entries: list[dict[str, Any]] = []
    log: Artifact | None = None
    for artifact in artifacts:
        found = read_entries(store, artifact)
        if any(fitness_of(entry) is not None for entry in found):
            entries, log = found, artifact
            break
    if not kernels and not entries:
        return None
    view = KernelView()
    if log is not None:
        view.candidates = candidates(entries, log, prefix)
    scored = [(index, entry, fitness_of(entry)) for index, entry in enumerate(entries)]
    points = [(float(entry_index(entry, index)), value) for index, entry, value in scored if value is not None]
    if points:
        best_so_far, best = [], float("-inf")
        for x, y in points:
            best = max(best, y)
            best_so_far.append((x, best))
        by_index = {c.index: c for c in view.candidates}
        targets = [
            (f"#{by_index[int(x)].anchor}", f"candidate {int(x)}: fitness {y:.4g} ({by_index[int(x)].status})")
            for x, y in points
            if int(x) in by_index
        ]
        view.plot = line_plot(
            [("each candidate", points), ("best so far", best_so_far)],
            title="fitness of each evaluated candidate over the search, and the best so far",
            x_label="evaluation",
            y_label="fitness",
            links=[targets if len(targets) == len(points) else None, None],
        )
        view.points, view.best_fitness = len(points), best
    if len(view.candidates) > CANDIDATES_SHOWN:
        # Every candidate a page lists costs HTML: 80,000 made a 28 MB page, fetched again on each result event.
        # The first ones and the best ones are listed; the log (an artifact) holds them all.
        best_ones = sorted(view.candidates, key=lambda c: -(c.fitness if c.fitness is not None else -math.inf))
        chosen = {c.index for c in view.candidates[: CANDIDATES_SHOWN // 2]}
        chosen |= {c.index for c in best_ones[: CANDIDATES_SHOWN - len(chosen)]}
        view.hidden = len(view.candidates) - len(chosen)
        view.candidates = [c for c in view.candidates if c.index in chosen]
    seed = next((a for a in kernels if "seed" in a.produced_by or "seed" in a.name), None)
    best_artifact = next(
        (a for a in kernels if a is not seed and any(w in a.produced_by for w in ("best", "winner", "candidate"))),
        None,
    ) or next((a for a in reversed(kernels) if a is not seed), None)
    if seed is not None and best_artifact is not None:
        before = read_artifact(store, seed.sha256, TEXT_LIMIT).decode("utf-8", errors="replace")
        after = read_artifact(store, best_artifact.sha256, TEXT_LIMIT).decode("utf-8", errors="replace")
        view.diff, view.seed_name, view.best_name = (
            diff_html(before, after, seed.name, best_artifact.name),
            seed.name,
            best_artifact.name,
        )
    elif entries and points:
        sources = [e for e in entries if isinstance(e.get("source"), str)]
        ranked = [e for e in sources if fitness_of(e) is not None]
        if sources and ranked:
            top = max(ranked, key=lambda e: fitness_of(e) or float("-inf"))
            view.diff = diff_html(
                sources[0]["source"], top["source"], "seed", f"best (evaluation {top.get('index', '?')})"
            )
            view.seed_name, view.best_name = "seed", f"evaluation {top.get('index', '?')}"
    return view


@dataclass
class ProverRun:
    """One line of a proof search's log: a check of a draft, a tool-correction probe or a model call."""

    attempt: int | None
    kind: str
    origin: str
    step: int | None
    ok: bool
    detail: str
    seconds: float | None
    fragment: str = ""
    """Where the failing draft's text, error and goal load from, when the search log kept them."""


@dataclass
class ProofAttempt:
    experiment: dict[str, Any]
    proofs: list[ArtifactView]
    objections: list[str]
    runs: list[ProverRun]
    runs_omitted: int = 0


@dataclass
class ProofView:
    attempts: list[ProofAttempt]
    final: ArtifactView | None


PROVER_RUNS_SHOWN = 200
"""Lines of a search log listed per problem; the full log stays one click away as an artifact."""


def _prover_run(entry: dict[str, Any], fragment: str = "") -> ProverRun:
    kind = str(entry.get("kind", "?"))
    if kind == "probe":
        found = entry.get("tactic") or ""
        detail = (
            f"replaced `{entry.get('replaced', '')}` by `{found}`" if found else "no automation tactic closed the goal"
        )
        detail = str(entry.get("skipped") or detail)
    elif kind == "llm":
        detail = f"model {entry.get('action', 'call')}" + (f": {entry['error']}" if entry.get("error") else "")
    else:
        detail = str(entry.get("error") or entry.get("diagnosis") or "")
    step = entry.get("step")
    attempt = entry.get("attempt")
    seconds = entry.get("seconds")
    return ProverRun(
        attempt=attempt if isinstance(attempt, int) else None,
        kind=kind,
        origin=str(entry.get("origin", "")),
        step=step if isinstance(step, int) else None,
        ok=bool(entry.get("ok")),
        detail=detail,
        seconds=finite(seconds),
        fragment=fragment if kind == "check" and not entry.get("ok") else "",
    )


def _search_log(store: RunStore, experiment: ExperimentView) -> list[ProverRun]:
    """The prover runs of the experiment's search log; a failed check that kept its draft links to it."""
    for view in experiment.artifacts:
        if view.record.kind == "log" and view.record.name.endswith(".jsonl"):
            runs = [
                _prover_run(entry, f"/ui/artifacts/{view.record.id}/entries/{position}" if has_text(entry) else "")
                for position, entry in enumerate(read_entries(store, view.record))
                if entry.get("kind") in ("check", "probe", "llm")
            ]
            if runs:
                return runs
    return []


def proof_view(store: RunStore, experiments: list[ExperimentView]) -> ProofView | None:
    """Per problem: the gate's objections, every prover run of its search, and the accepted proof."""
    if not any(a.record.kind == "proof" for e in experiments for a in e.artifacts):
        return None
    attempts, final = [], None
    for experiment in experiments:
        proofs = [a for a in experiment.artifacts if a.record.kind == "proof"]
        objections = [f"{v.gate}: {'; '.join(v.reasons)}" for v in experiment.verdicts if v.decision != "accept"]
        log = _search_log(store, experiment)
        runs = log[:PROVER_RUNS_SHOWN]
        attempts.append(ProofAttempt(experiment.record, proofs, objections, runs, max(0, len(log) - len(runs))))
        if experiment.record["decision"] == "accept" and proofs:
            final = proofs[-1]
    return ProofView(attempts, final)


@dataclass
class PlannedExperiment:
    """An experiment the plan lists, shown for approval before anything runs."""

    key: str
    params: dict[str, str]
    rationale: str = ""
    hidden: list[str] = field(default_factory=list)


PLANNED_VALUE_LIMIT = 120
"""Longer parameter values (a case directory, a kernel definition) are named, not shown, in the plan."""


def planned_experiments(events: list[Event]) -> list[PlannedExperiment]:
    """The experiments of the run's latest plan, from its `plan` event (keys only for older runs)."""
    for event in reversed(events):
        if event.kind != "plan":
            continue
        items = event.data.get("planned")
        if not isinstance(items, list):
            items = [{"key": key} for key in event.data.get("keys") or [] if isinstance(key, str)]
        planned = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                continue
            params: dict[str, str] = {}
            hidden = []
            for name, value in (item.get("params") or {}).items():
                text = value if isinstance(value, str) else json.dumps(value)
                if len(text) > PLANNED_VALUE_LIMIT:
                    hidden.append(str(name))
                else:
                    params[str(name)] = text
            planned.append(PlannedExperiment(item["key"], params, str(item.get("rationale") or ""), hidden))
        return planned
    return []


def run_page(store: RunStore, run_id: str) -> dict[str, Any]:
    """The run page's model; raises RunNotFoundError."""
    detail = run_detail(store, run_id)  # first: an unknown id must not get a run directory made for it
    paths = (store.home, store.run_dir(run_id))
    detail = without_server_paths(detail, *paths)
    detail["spec"] = shown_spec(detail["spec"])  # a run that failed before its task loaded stored `{}`
    rows = store.artifacts_of(run_id)
    by_experiment: dict[int | None, list[Artifact]] = {}
    for row in rows:
        by_experiment.setdefault(row.experiment_id, []).append(row)
    experiments = []
    for record in detail["experiments"]:
        artifacts = [artifact_view(store, a) for a in by_experiment.get(record["id"], [])]
        evidence = {a.record.sha256: a for a in artifacts}
        kernel = kernel_view(store, by_experiment.get(record["id"], []), f"experiment-{record['id']}")
        experiments.append(ExperimentView(record, artifacts, evidence, kernel, verdicts_of(record)))
    report = None
    if detail["report_sha256"]:
        markdown = read_artifact(store, detail["report_sha256"], 4 << 20).decode("utf-8", errors="replace")
        verdict_ids = {v["id"] for v in detail["verdicts"]}
        report = report_html(markdown, [row.sha256 for row in rows], verdict_ids)
    run_level = [artifact_view(store, a) for a in by_experiment.get(None, []) if a.kind != "report"]
    report_files = [a for a in by_experiment.get(None, []) if a.kind == "report"]
    # Progress and model-call events are frequent: they are summarised (newest progress, usage table), never
    # listed, so they must not use up the page's share of events.
    listed = [checked_event(e) for e in store.events(run_id, 0, MAX_LISTED_EVENTS, exclude=(PROGRESS_KIND, LLM_KIND))]
    events = [
        event.model_copy(update=without_server_paths({"message": event.message, "data": event.data}, *paths))
        for event in listed
    ]
    newest_progress = [checked_event(e) for e in store.newest_events(run_id, PROGRESS_KIND, 500)]
    # The live stream continues after the last event the page accounts for: the newest of all, unless the
    # list was cut, when the stream brings the rest.
    last_event_id = events[-1].id if len(listed) >= MAX_LISTED_EVENTS else store.last_event_id(run_id)
    plan = detail["options"].get("plan") if isinstance(detail["options"].get("plan"), dict) else None
    usage = llm_usage(store, run_id)
    return {
        "planned": planned_experiments(events),
        "run": detail,
        "experiments": experiments,
        "proof": proof_view(store, experiments),
        "report": report,
        "report_files": report_files,
        "run_artifacts": run_level,
        "run_verdicts": [RecordedVerdict.model_validate(v) for v in detail["run_verdicts"]],
        "events": events,
        "progress": latest_progress(newest_progress),
        "last_event_id": last_event_id or 0,
        "plan": plan,
        "llm_usage": usage,
        "llm_total": usage_total(usage),
    }
