"""The write-up: a markdown report built from accepted results only.

Every number in the results section is a gate's metric, cited by verdict id; every figure is
an artifact, cited by digest. Experiments that were not accepted appear only in the appendix.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from agents._context import RunContext
from runs import Artifact, Experiment, Verdict


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _verdict_ref(verdict: Verdict) -> str:
    return f"[V{verdict.id}]"


def _figure_copy(context: RunContext, artifact: Artifact) -> str:
    """Copy a figure next to the report (by digest, so names never collide) and return its link."""
    figures = context.run_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    name = f"{artifact.sha256[:12]}-{Path(artifact.name).name}"
    target = figures / name
    if not target.exists():
        shutil.copyfile(context.store.artifacts.open_path(artifact.sha256), target)
    return f"figures/{name}"


def _accepted_section(context: RunContext, experiment: Experiment, verdicts: list[Verdict]) -> list[str]:
    lines = [f"### {experiment.key}", ""]
    if experiment.rationale:
        lines += [f"*{experiment.rationale}*", ""]
    params = {k: v for k, v in experiment.params.items() if k != "case"}
    lines += ["| parameter | value |", "| --- | --- |"]
    lines += [f"| {name} | {_format(value)} |" for name, value in sorted(params.items())]
    lines += ["", "| quantity | value | source |", "| --- | --- | --- |"]
    for verdict in verdicts:
        for name, value in sorted(verdict.metrics.items()):
            lines.append(f"| {name} | {_format(value)} | {verdict.gate} {_verdict_ref(verdict)} |")
    lines.append("")
    figures = [a for a in context.store.artifacts_of(context.run_id, experiment.id) if a.kind == "image"]
    for artifact in figures:
        link = _figure_copy(context, artifact)
        lines += [f"![{artifact.name}]({link})", "", f"<sub>artifact sha256 {artifact.sha256}</sub>", ""]
    lines.append("Accepted by:")
    for verdict in verdicts:
        lines.append(f"- **{verdict.gate}** {_verdict_ref(verdict)}: {'; '.join(verdict.reasons)}")
    lines.append("")
    return lines


def write_report(context: RunContext, notes: list[str] | None = None) -> Path:
    store, task = context.store, context.task
    run = store.get_run(context.run_id)
    experiments = store.experiments(context.run_id)
    verdicts = store.verdicts(context.run_id)
    by_experiment: dict[int, list[Verdict]] = {}
    for verdict in verdicts:
        if verdict.experiment_id is not None:
            by_experiment.setdefault(verdict.experiment_id, []).append(verdict)
    accepted = [e for e in experiments if e.decision == "accept"]
    others = [e for e in experiments if e.decision != "accept"]

    lines = [
        f"# {task.title or task.id}",
        "",
        f"Run `{run.id}` of task `{task.id}` ({task.workload}), seed {task.seed}. "
        f"{len(accepted)} of {len(experiments)} experiments accepted by every gate ({', '.join(task.gates)}).",
        "",
        "## Question",
        "",
        task.goal or "(no goal stated)",
        "",
        "## Plan",
        "",
    ]
    for experiment in experiments:
        params = ", ".join(f"{k}={_format(v)}" for k, v in sorted(experiment.params.items()) if k != "case")
        lines.append(f"- `{experiment.key}` ({params}): {experiment.rationale or 'planned'}")
    lines += ["", "## Accepted results", ""]
    if not accepted:
        lines += ["No experiment was accepted by every gate, so this report states no result.", ""]
    for experiment in accepted:
        lines += _accepted_section(context, experiment, by_experiment.get(experiment.id or -1, []))

    lines += ["## Appendix: experiments not accepted", ""]
    if not others:
        lines += ["None.", ""]
    for experiment in others:
        lines.append(
            f"- `{experiment.key}`: {experiment.decision or experiment.status}"
            + (f"; error: {experiment.error}" if experiment.error else "")
        )
        for verdict in by_experiment.get(experiment.id or -1, []):
            if verdict.decision != "accept":
                lines.append(
                    f"  - {verdict.gate} {_verdict_ref(verdict)} {verdict.decision}: {'; '.join(verdict.reasons)}"
                )
    lines.append("")
    if notes:
        lines += ["## Notes from the orchestrator", "", *[f"- {note}" for note in notes], ""]

    lines += ["## Provenance", ""]
    for name, value in sorted(run.environment.items()):
        shown = ", ".join(f"{k} {v}" for k, v in sorted(value.items())) if isinstance(value, dict) else value
        lines.append(f"- {name}: {shown}")
    lines += ["", "Verdicts cited above, with the digests of the artifacts each gate read:", ""]
    for verdict in verdicts:
        evidence = ", ".join(sha[:12] for sha in verdict.evidence) or "none"
        lines.append(f"- {_verdict_ref(verdict)} {verdict.gate} → {verdict.decision}; evidence: {evidence}")
    lines.append("")

    path = context.run_dir / "report.md"
    path.write_text("\n".join(lines))
    artifact = store.add_artifact(context.run_id, path, kind="report", name="report.md", produced_by="writer")
    store.update_run(context.run_id, report_sha256=artifact.sha256)
    return path
