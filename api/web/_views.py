"""What the dashboard pages show, assembled from the store without knowing any one workload.

Experiments, verdicts and artifacts render generically by artifact kind (image, log, source,
table, kernel, proof, data...). Two views appear only where their data exists: a kernel search
(kernel artifacts, or a JSONL log whose lines carry a `fitness`) gets a fitness plot and the
diff from seed to best; a run with `proof` artifacts gets its attempt history and final proof.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from api._detail import run_detail
from api._paths import without_server_paths
from api.web._render import TEXT_LIMIT, diff_html, highlighted, line_plot, parse_table, report_html
from runs import Artifact, ArtifactNotFoundError, RunStore

INLINE_TEXT_KINDS = {"log", "source", "kernel", "proof"}
JSONL_LIMIT = 8 << 20


@dataclass
class ArtifactView:
    record: Artifact
    display: str  # image | text | table | link
    html: Markup | None = None
    note: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    total_rows: int = 0

    @property
    def url(self) -> str:
        return f"/artifacts/{self.record.sha256}"

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


@dataclass
class ExperimentView:
    record: dict[str, Any]
    artifacts: list[ArtifactView]
    evidence: dict[str, ArtifactView]
    kernel: KernelView | None = None

    def of(self, display: str) -> list[ArtifactView]:
        return [a for a in self.artifacts if a.display == display]


def _read(store: RunStore, sha: str, limit: int) -> bytes:
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


def artifact_view(store: RunStore, artifact: Artifact) -> ArtifactView:
    kind, media = artifact.kind, artifact.media_type
    if kind == "image" or media.startswith("image/"):
        return ArtifactView(artifact, "image")
    if kind == "table" and artifact.size <= 4 * TEXT_LIMIT:
        header, rows, total = parse_table(_read(store, artifact.sha256, TEXT_LIMIT))
        if rows:
            return ArtifactView(artifact, "table", header=header, rows=rows, total_rows=total)
    if kind in INLINE_TEXT_KINDS or (kind == "data" and artifact.size <= TEXT_LIMIT):
        data = (
            _read_tail(store, artifact.sha256, 2 * TEXT_LIMIT)
            if kind == "log"
            else _read(store, artifact.sha256, TEXT_LIMIT + 1)
        )
        if b"\x00" not in data[:4096]:
            markup, note = highlighted(artifact.name, kind, data)
            if kind == "log" and artifact.size > len(data):
                note = note or "end of the log shown"
            elif len(data) > TEXT_LIMIT:
                note = note or f"first {TEXT_LIMIT // 1024} KiB shown"
            return ArtifactView(artifact, "text", html=markup, note=note)
    return ArtifactView(artifact, "link")


def _jsonl_entries(store: RunStore, artifact: Artifact) -> list[dict[str, Any]]:
    if not artifact.name.endswith(".jsonl") or artifact.size > JSONL_LIMIT:
        return []
    entries = []
    for line in _read(store, artifact.sha256, JSONL_LIMIT).decode("utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict):
            entries.append(item)
    return entries


def _fitness(entry: dict[str, Any]) -> float | None:
    value = entry.get("fitness")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def kernel_view(store: RunStore, artifacts: list[Artifact]) -> KernelView | None:
    """Fitness over the search and the diff from seed to best, where the experiment has them."""
    kernels = [a for a in artifacts if a.kind == "kernel"]
    entries: list[dict[str, Any]] = []
    for artifact in artifacts:
        found = _jsonl_entries(store, artifact)
        if any(_fitness(entry) is not None for entry in found):
            entries = found
            break
    if not kernels and not entries:
        return None
    view = KernelView()
    scored = [(index, entry, _fitness(entry)) for index, entry in enumerate(entries)]
    points = [(float(entry.get("index", index)), value) for index, entry, value in scored if value is not None]
    if points:
        best_so_far, best = [], float("-inf")
        for x, y in points:
            best = max(best, y)
            best_so_far.append((x, best))
        view.plot = line_plot(
            [("candidate", points), ("best so far", best_so_far)],
            title="fitness of each evaluated candidate over the search",
            x_label="evaluation",
            y_label="fitness",
        )
        view.points, view.best_fitness = len(points), best
    seed = next((a for a in kernels if "seed" in a.produced_by or "seed" in a.name), None)
    best_artifact = next(
        (a for a in kernels if a is not seed and any(w in a.produced_by for w in ("best", "winner", "candidate"))),
        None,
    ) or next((a for a in reversed(kernels) if a is not seed), None)
    if seed is not None and best_artifact is not None:
        before = _read(store, seed.sha256, TEXT_LIMIT).decode("utf-8", errors="replace")
        after = _read(store, best_artifact.sha256, TEXT_LIMIT).decode("utf-8", errors="replace")
        view.diff, view.seed_name, view.best_name = (
            diff_html(before, after, seed.name, best_artifact.name),
            seed.name,
            best_artifact.name,
        )
    elif entries and points:
        sources = [e for e in entries if isinstance(e.get("source"), str)]
        ranked = [e for e in sources if _fitness(e) is not None]
        if sources and ranked:
            top = max(ranked, key=lambda e: _fitness(e) or float("-inf"))
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


def _prover_run(entry: dict[str, Any]) -> ProverRun:
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
        seconds=float(seconds) if isinstance(seconds, (int, float)) else None,
    )


def _search_log(store: RunStore, experiment: ExperimentView) -> list[dict[str, Any]]:
    for view in experiment.artifacts:
        if view.record.kind == "log" and view.record.name.endswith(".jsonl"):
            entries = [e for e in _jsonl_entries(store, view.record) if e.get("kind") in ("check", "probe", "llm")]
            if entries:
                return entries
    return []


def proof_view(store: RunStore, experiments: list[ExperimentView]) -> ProofView | None:
    """Per problem: the gate's objections, every prover run of its search, and the accepted proof."""
    if not any(a.record.kind == "proof" for e in experiments for a in e.artifacts):
        return None
    attempts, final = [], None
    for experiment in experiments:
        proofs = [a for a in experiment.artifacts if a.record.kind == "proof"]
        objections = [
            f"{v['gate']}: {'; '.join(v['reasons'])}"
            for v in experiment.record["verdicts"]
            if v["decision"] != "accept"
        ]
        log = _search_log(store, experiment)
        runs = [_prover_run(entry) for entry in log[:PROVER_RUNS_SHOWN]]
        attempts.append(ProofAttempt(experiment.record, proofs, objections, runs, max(0, len(log) - len(runs))))
        if experiment.record["decision"] == "accept" and proofs:
            final = proofs[-1]
    return ProofView(attempts, final)


def run_page(store: RunStore, run_id: str) -> dict[str, Any]:
    """The run page's model; raises RunNotFoundError."""
    detail = run_detail(store, run_id)  # first: an unknown id must not get a run directory made for it
    paths = (store.home, store.run_dir(run_id))
    detail = without_server_paths(detail, *paths)
    rows = store.artifacts_of(run_id)
    by_experiment: dict[int | None, list[Artifact]] = {}
    for row in rows:
        by_experiment.setdefault(row.experiment_id, []).append(row)
    experiments = []
    for record in detail["experiments"]:
        artifacts = [artifact_view(store, a) for a in by_experiment.get(record["id"], [])]
        evidence = {a.record.sha256: a for a in artifacts}
        experiments.append(
            ExperimentView(record, artifacts, evidence, kernel_view(store, by_experiment.get(record["id"], [])))
        )
    report = None
    if detail["report_sha256"]:
        markdown = _read(store, detail["report_sha256"], 4 << 20).decode("utf-8", errors="replace")
        report = report_html(markdown, [row.sha256 for row in rows])
    run_level = [artifact_view(store, a) for a in by_experiment.get(None, []) if a.kind != "report"]
    report_files = [a for a in by_experiment.get(None, []) if a.kind == "report"]
    events = [
        event.model_copy(update=without_server_paths({"message": event.message, "data": event.data}, *paths))
        for event in store.events(run_id, 0, 2000)
    ]
    plan = detail["options"].get("plan") if isinstance(detail["options"].get("plan"), dict) else None
    return {
        "run": detail,
        "experiments": experiments,
        "proof": proof_view(store, experiments),
        "report": report,
        "report_files": report_files,
        "run_artifacts": run_level,
        "events": events,
        "last_event_id": events[-1].id if events else 0,
        "plan": plan,
    }


def compare_page(store: RunStore, run_ids: list[str]) -> dict[str, Any]:
    """Parameters and metrics of several runs side by side, experiment by experiment."""
    details = [without_server_paths(run_detail(store, run_id), store.home, store.run_dir(run_id)) for run_id in run_ids]
    keys: list[str] = []
    for detail in details:
        for experiment in detail["experiments"]:
            if experiment["key"] not in keys:
                keys.append(experiment["key"])
    sections = []
    for key in keys:
        cells = [next((e for e in d["experiments"] if e["key"] == key), None) for d in details]
        params = sorted({name for e in cells if e for name in e["params"]})
        metrics = sorted({name for e in cells if e for name in e["metrics"]})
        verdict_metrics = sorted({f"{v['gate']}.{m}" for e in cells if e for v in e["verdicts"] for m in v["metrics"]})
        rows: list[tuple[str, str, list[Any]]] = []
        rows.append(("result", "decision", [e["decision"] or e["status"] if e else None for e in cells]))
        rows += [("parameter", name, [e["params"].get(name) if e else None for e in cells]) for name in params]
        rows += [("metric", name, [e["metrics"].get(name) if e else None for e in cells]) for name in metrics]
        for name in verdict_metrics:
            gate, metric = name.split(".", 1)
            values = []
            for e in cells:
                found = [v["metrics"].get(metric) for v in (e["verdicts"] if e else []) if v["gate"] == gate]
                values.append(found[-1] if found else None)
            rows.append(("gate", name, values))
        sections.append({"key": key, "rows": rows, "differs": [len({json.dumps(v) for v in r[2]}) > 1 for r in rows]})
    return {"runs": details, "sections": sections}
