"""The write-up: a report built from accepted results only, in markdown and self-contained HTML.

Every number in the results section is a gate's metric, cited by verdict id; every figure is an
artifact, cited by digest. With an LLM, a summary is drafted by the model and kept only if the
write-up gate finds that each of its sentences says what its cited verdicts support; otherwise the
deterministic summary stands, and the notes say which kinds of problem the gate found.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import mimetypes
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from agents._context import RunContext
from agents._custom_gates import custom_gates_lines
from agents._experiments import stored_artifact_path
from agents._markdown import (
    artifact_link,
    citation,
    escape_markdown,
    invisible_count,
    render_markdown,
    show_invisible,
    small_print,
)
from agents.llm import LLMError, Message
from runs import Artifact, Experiment, RecordedVerdict, Run, sha256_file, write_atomically
from verifiers import ExperimentFacts, VerdictFacts, WriteupRecord, check_prose, paragraphs, problem_kinds

UNSHOWN_PARAMS = ("case", "definition", "header", "statement", "proof", "starts")
"""Parameters too large to show in a table: a case directory, a kernel task's definition and start candidates, a
theorem's header, statement and given proof (all in the task record; a theorem is named by the question and shown
in its proof file)."""


UNJUDGED = "the proposer's words, which no gate judges"
RATIONALE_LABEL = f"Proposed with this rationale ({UNJUDGED}):"
"""A rationale is a planner's or a model proposer's text, shown as it was written: it may state numbers or
success that no verdict supports, so the report says whose words they are wherever it shows one."""


def _format(value: Any) -> str:
    """A parameter or metric as one line of literal markdown: a string parameter is whatever a REST client or
    a model chose (a skeleton list, a model's source), and must add no link, table cell or emphasis."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return str(value)
    return escape_markdown(str(value), one_line=True)


def _verdict_ref(verdict: RecordedVerdict) -> str:
    """The writer's own citation (`citation`): the dashboard links it, and nothing that text written by others
    can make."""
    assert verdict.id is not None
    return citation(verdict.id)


def _digest_note(sha256: str) -> str:
    return f"<sub>artifact sha256 {artifact_link(sha256, sha256)}</sub>"


def _reasons(verdict: RecordedVerdict) -> str:
    """A verdict's reasons as one line of literal text: they quote files, logs and model replies, and must not
    add links, images or sections of their own to the report."""
    return escape_markdown("; ".join(verdict.reasons), one_line=True)


def _figure_copy(context: RunContext, artifact: Artifact) -> str:
    """Copy a figure next to the report (by digest, so names never collide) and return its link.

    A copy already there is kept only when it holds the digest's bytes, and a new one is written whole or not
    at all: a write-up killed halfway through a copy left half a figure, which the resumed write-up kept and
    `report.html` inlined under the full figure's digest."""
    figures = context.run_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    name = f"{artifact.sha256[:12]}-{Path(artifact.name).name}"
    target = figures / name
    if target.is_symlink() or not target.is_file() or sha256_file(target) != artifact.sha256:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        write_atomically(target, stored_artifact_path(context, artifact).read_bytes())
    return f"figures/{name}"


FENCE_LANGUAGES = {".lean": "lean4", ".thy": "isabelle"}
"""A file whose name says its language is fenced in it (a Lean 4 or Isabelle proof is an artifact of kind proof)."""
TEXT_LINES_SHOWN = 150
TEXT_BYTES_READ = 256 * 1024


_LEADING_BACKTICKS = re.compile(r"[ \t]*(`*)")


def code_fence(lines: list[str]) -> str:
    """A backtick fence longer than any run of backticks opening a line of `lines`.

    The text is a candidate's (a proof, a kernel): a comment holding a fence at least as long as ours would
    close ours, and whatever followed would be read as the report's own markdown (a forged "Accepted results"
    section). Indentation is ignored, since a closing fence may be indented.
    """
    longest = max((len(match.group(1)) for line in lines if (match := _LEADING_BACKTICKS.match(line))), default=0)
    return "`" * max(3, longest + 1)


def _text_deliverable(context: RunContext, artifact: Artifact, language: str) -> list[str]:
    """The artifact's text in a fenced `language` block, cut at TEXT_LINES_SHOWN lines, cited by digest.

    Every character a reader cannot see is shown as its marker (`show_invisible`): a proof's `idtac "..."` holding
    a right-to-left override displays as ending in `Admitted.` while the prover checked something else. The note
    under the fence counts them, so a reader knows the markers stand for characters of the file, whose exact bytes
    the digest link gives.
    """
    with stored_artifact_path(context, artifact).open("rb") as handle:
        data = handle.read(TEXT_BYTES_READ)
    text = data.decode("utf-8", errors="replace").rstrip("\n").splitlines()
    shown = text[:TEXT_LINES_SHOWN]
    hidden = sum(invisible_count(line) for line in shown)
    shown = [show_invisible(line) for line in shown]
    fence = code_fence(shown)
    lines = [f"`{show_invisible(artifact.name)}`:", "", fence + language, *shown, fence, ""]
    if len(text) > len(shown) or len(data) == TEXT_BYTES_READ:
        lines += [f"<sub>first {len(shown)} lines shown</sub>", ""]
    if hidden:
        lines += [f"<sub>{_invisible_note(hidden)}</sub>", ""]
    return [*lines, _digest_note(artifact.sha256), ""]


def _invisible_note(count: int) -> str:
    characters = "character" if count == 1 else "characters"
    return (
        f"the file holds {count} invisible {characters} (text-reordering or zero-width), shown above as "
        "⟨U+XXXX⟩ markers; the artifact keeps them as written"
    )


def _accepted_section(context: RunContext, experiment: Experiment, verdicts: list[RecordedVerdict]) -> list[str]:
    lines = [f"### {experiment.key}", ""]
    if experiment.rationale:
        rationale = escape_markdown(experiment.rationale, one_line=True)
        lines += [f"{RATIONALE_LABEL} *{rationale}*", ""]
    params = {k: v for k, v in experiment.params.items() if k not in UNSHOWN_PARAMS}
    lines += ["| parameter | value |", "| --- | --- |"]
    lines += [f"| {name} | {_format(value)} |" for name, value in sorted(params.items())]
    lines += ["", "| quantity | value | source |", "| --- | --- | --- |"]
    for verdict in verdicts:
        for name, value in sorted(verdict.metrics.items()):
            lines.append(f"| {name} | {_format(value)} | {verdict.gate} {_verdict_ref(verdict)} |")
    lines.append("")
    # Only the outputs the verdicts cite (the experiment's evidence): never a file of an earlier attempt.
    cited = set((experiment.evidence or {}).values())
    artifacts = [a for a in context.store.artifacts_of(context.run_id, experiment.id) if a.sha256 in cited]
    for artifact in (a for a in artifacts if a.kind == "image"):
        link = _figure_copy(context, artifact)
        lines += [f"![{escape_markdown(artifact.name, one_line=True)}]({link})", "", _digest_note(artifact.sha256), ""]
    # The workload's own artifact kinds (a checked proof, an evolved kernel) are the result itself: shown as text.
    languages = context.workload.artifact_kinds
    for artifact in (a for a in artifacts if a.kind in languages):
        language = FENCE_LANGUAGES.get(Path(artifact.name).suffix, languages[artifact.kind])
        lines += _text_deliverable(context, artifact, language)
    lines.append("Accepted by:")
    for verdict in verdicts:
        lines.append(f"- **{verdict.gate}** {_verdict_ref(verdict)}: {_reasons(verdict)}")
    lines.append("")
    return lines


def _plan_section(run: Run, experiments: list[Experiment]) -> list[str]:
    lines = ["## Plan", ""]
    plan = run.options.get("plan")
    if plan:
        lines += [
            f"Planned by {plan.get('planner', 'the planner')} from the documents ({UNJUDGED}): "
            + f"*{escape_markdown(str(plan.get('rationale', '')), one_line=True)}*",
            "",
        ]
        for cited in plan.get("citations", []):
            passage = " ".join(show_invisible(str(cited["passage"])).replace("`", "'").splitlines())
            where = escape_markdown(str(cited["location"]), one_line=True)
            lines.append(f"> [`{passage}`, {where}] {escape_markdown(str(cited['quote']), one_line=True)}")
            lines.append(">")
        if plan.get("citations"):
            lines.pop()
        lines.append("")
    if experiments:
        lines += [f"Each experiment with its parameters and its proposer's rationale ({UNJUDGED}):", ""]
    for experiment in experiments:
        params = ", ".join(f"{k}={_format(v)}" for k, v in sorted(experiment.params.items()) if k not in UNSHOWN_PARAMS)
        lines.append(
            f"- `{experiment.key}` ({params}): {escape_markdown(experiment.rationale or 'planned', one_line=True)}"
        )
    lines.append("")
    return lines


def _facts(experiments: list[Experiment], by_experiment: dict[int, list[RecordedVerdict]]) -> list[dict[str, Any]]:
    return [
        {
            "experiment": e.key,
            "parameters": {k: v for k, v in e.params.items() if k not in UNSHOWN_PARAMS},
            "verdicts": [
                {"id": f"V{v.id}", "gate": v.gate, "reasons": v.reasons, "metrics": v.metrics}
                for v in by_experiment.get(e.id or -1, [])
            ],
        }
        for e in experiments
    ]


def _numeric(values: dict[str, Any]) -> dict[str, float]:
    return {
        name: float(value)
        for name, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def writeup_record(experiments: list[Experiment], verdicts: list[RecordedVerdict]) -> WriteupRecord:
    """Every experiment and verdict of the run, as the write-up gate checks citations against them.

    Not-accepted experiments are in the record too, so that prose citing them is recognised as
    such (and judged by what it claims) rather than as citing nothing.
    """
    return WriteupRecord(
        experiments={
            e.key: ExperimentFacts(key=e.key, accepted=e.decision == "accept", parameters=_numeric(e.params))
            for e in experiments
        },
        verdicts={
            v.id: VerdictFacts(
                id=v.id,
                experiment=v.experiment or None,
                gate=v.gate,
                accepting=v.decision == "accept",
                metrics=_numeric(v.metrics),
            )
            for v in verdicts
        },
    )


def _llm_summary(context: RunContext, facts: list[dict[str, Any]], record: WriteupRecord) -> tuple[str | None, str]:
    """The model's summary if the write-up gate accepts it, and a note on what happened."""
    assert context.llm is not None
    prompt = (
        f"Goal of the study: {context.task.goal}\n"
        f"Accepted results (only these may be reported): {json.dumps(facts, separators=(',', ':'))}\n"
        "Write a short summary (at most two paragraphs of plain text, no markdown links or HTML) of what these "
        "accepted results show. End every sentence that states a number, names an experiment or says that "
        "something passed or failed with the verdicts it rests on, as [V<id>]. Use only numbers of the cited "
        "verdicts and their experiments, written as they appear there."
    )
    try:
        completion = context.llm.complete(
            [Message("system", "You write the summary of a verified research report."), Message("user", prompt)],
            max_tokens=800,
        )
    except LLMError as error:
        return None, f"no model summary: {error}; the deterministic summary is shown"
    prose = completion.text.strip()
    verdict = check_prose(prose, record)
    stored = context.record_verdict(None, "run", verdict)
    if verdict.decision != "accept":
        # The problems are detailed in the verdict; the report names only their kinds, never the rejected words.
        assert stored.id is not None
        return (
            None,
            f"the model summary was rejected by the write-up gate {citation(stored.id)} ({problem_kinds(verdict)}); "
            "the deterministic summary is shown instead",
        )
    note = (
        f"summary drafted by {escape_markdown(context.llm.model, one_line=True)}; write-up gate: {verdict.reasons[0]}"
    )
    return as_judged(prose, record.verdicts), note


_ESCAPED_CITATION = re.compile(r"(?<!\\)((?:\\\\)*)\\\[V([0-9]{1,18})\\\]")
"""`\\[V7\\]` in text `escape_markdown` wrote, where the backslash escapes the bracket (it follows an even run of
backslashes, each pair an escaped backslash of the text)."""


def as_judged(prose: str, cited: Collection[int] = ()) -> str:
    """The accepted prose as markdown that renders as the text the gate judged: its paragraphs, each on one line
    (`paragraphs`), every markup character escaped. A reader sees plain text, never a heading, list, link,
    definition or image, and never two of the gate's units joined into one sentence.

    Its `[V7]` citations of the verdicts in `cited` were checked by the gate against the record, so they become
    the writer's own citations (`citation`), linked like the rest of the report's."""

    def own(match: re.Match[str]) -> str:
        number = int(match.group(2))
        return match.group(1) + citation(number) if number in cited else match.group(0)

    escaped = (escape_markdown(paragraph, one_line=True) for paragraph in paragraphs(prose))
    return "\n\n".join(_ESCAPED_CITATION.sub(own, paragraph) for paragraph in escaped)


def write_report(context: RunContext, notes: list[str] | None = None) -> Path:
    store, task = context.store, context.task
    run = store.get_run(context.run_id)
    experiments = store.experiments(context.run_id)
    verdicts = [v for v in store.verdicts(context.run_id) if v.experiment_id is not None]
    by_experiment: dict[int, list[RecordedVerdict]] = {}
    for verdict in verdicts:
        assert verdict.experiment_id is not None
        by_experiment.setdefault(verdict.experiment_id, []).append(verdict)
    accepted = [e for e in experiments if e.decision == "accept"]
    others = [e for e in experiments if e.decision != "accept"]
    notes = list(notes or [])

    head = [
        f"# {escape_markdown(task.title or task.id, one_line=True)}"
        + (" (custom gates)" if task.gate_deviations else ""),
        "",
        *custom_gates_lines(task),
        f"Run `{run.id}` of task `{task.label}` ({task.workload}), seed {task.seed}. "
        f"{len(accepted)} of {len(experiments)} experiments accepted by every gate ({', '.join(task.gates)}).",
        "",
        "## Question",
        "",
        escape_markdown(task.goal) if task.goal else "(no goal stated)",
        "",
        *_plan_section(run, experiments),
    ]
    results = ["## Accepted results", ""]
    if not accepted:
        results += ["No experiment was accepted by every gate, so this report states no result.", ""]
    for experiment in accepted:
        results += _accepted_section(context, experiment, by_experiment.get(experiment.id or -1, []))

    appendix = ["## Appendix: experiments not accepted", ""]
    if not others:
        appendix += ["None.", ""]
    for experiment in others:
        appendix.append(
            f"- `{experiment.key}`: {experiment.decision or experiment.status}"
            + (f"; error: {escape_markdown(experiment.error, one_line=True)}" if experiment.error else "")
        )
        for verdict in by_experiment.get(experiment.id or -1, []):
            if verdict.decision != "accept":
                appendix.append(f"  - {verdict.gate} {_verdict_ref(verdict)} {verdict.decision}: {_reasons(verdict)}")
    appendix.append("")

    provenance = ["## Provenance", ""]
    for name, value in sorted(run.environment.items()):
        shown = ", ".join(f"{k} {v}" for k, v in sorted(value.items())) if isinstance(value, dict) else value
        provenance.append(f"- {name}: {shown}")
    provenance += ["", "Verdicts cited above, with the digests of the artifacts each gate read:", ""]
    for verdict in verdicts:
        evidence = ", ".join(_evidence_link(sha) for sha in verdict.evidence) or "none"
        provenance.append(f"- {_verdict_ref(verdict)} {verdict.gate} → {verdict.decision}; evidence: {evidence}")
    provenance.append("")

    summary = ["## Summary", ""]
    if accepted and context.llm is not None:
        record = writeup_record(experiments, verdicts)
        prose, note = _llm_summary(context, _facts(accepted, by_experiment), record)
        notes.append(note)
        summary += [prose or _plain_summary(accepted, others), ""]
    else:
        summary += [_plain_summary(accepted, others), ""]
    tail = ["## Notes from the orchestrator", "", *[f"- {note}" for note in notes], ""] if notes else []

    # Everything above escapes what others wrote; the orchestrator's notes and the environment are shown as given,
    # so a character no reader can see is made visible over the whole report once more.
    markdown = show_invisible("\n".join(head + summary + results + appendix + tail + provenance))
    path = context.run_dir / "report.md"
    path.write_text(markdown, encoding="utf-8")
    html_path = context.run_dir / "report.html"
    html_path.write_text(render_html(markdown, context.run_dir, title=task.title or task.id), encoding="utf-8")
    store.record_report(
        context.run_id,
        [
            store.stage_artifact(context.run_id, path, kind="report", name="report.md", produced_by="writer"),
            store.stage_artifact(context.run_id, html_path, kind="report", name="report.html", produced_by="writer"),
        ],
    )
    return path


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _evidence_link(sha256: str) -> str:
    """A digest a gate read, as its 12-digit prefix linked to the artifact (`artifact_link`)."""
    if not _SHA256.fullmatch(sha256):
        return escape_markdown(sha256, one_line=True)
    return artifact_link(sha256, sha256[:12])


def _plain_summary(accepted: list[Experiment], others: list[Experiment]) -> str:
    if not accepted:
        return "No result passed every gate."
    keys = ", ".join(f"`{e.key}`" for e in accepted)
    rest = f"; {len(others)} other experiment(s) were not accepted (see the appendix)" if others else ""
    return f"Accepted: {keys}{rest}. The numbers below are the gates' own measurements."


_CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#1c2330}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccd;padding:.2rem .6rem}
th{background:#f1f3f8}img{max-width:100%;border:1px solid #dde}blockquote{color:#445;border-left:3px solid #99b;
margin:.5rem 0;padding-left:.8rem}code{background:#f4f4f7;padding:0 .2rem}small.note{display:block;color:#667}
"""


def render_html(markdown: str, base: Path, *, title: str) -> str:
    """The report as one HTML file: figures inlined as data URIs so it travels on its own.

    Only the figures the writer placed in the run's `figures/` are shown; any other image (a remote URL above all)
    becomes its alt text, and the page's own policy forbids scripts and every remote load, so the
    file is inert wherever it is opened.
    """

    def inline(source: str) -> str | None:
        # Only the writer's own figures (`figures/`): an image pointing at another file of the run, a rejected
        # experiment's figure say, was written by someone else.
        if "://" in source or not source.startswith("figures/"):
            return None
        path = (base / source).resolve()
        if not path.is_file() or (base / "figures").resolve() not in path.parents:
            return None
        media_type = mimetypes.guess_type(path.name)[0] or "image/png"
        data = base64.b64encode(path.read_bytes()).decode()
        return f"data:{media_type};base64,{data}"

    body = small_print(render_markdown(markdown, inline, _no_server_links))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{REPORT_CSP}">'
        f"<title>{html.escape(title)}</title>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>'
        f"<body><main>{body}</main></body></html>"
    )


def _no_server_links(href: str) -> None:
    """A standalone file has no verdict list or artifact server to link to: the writer's citations and digests are
    shown as their text there (the dashboard links them), and any other link is shown, not followed."""
    return None


REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
"""A standalone report runs no script and loads nothing: its figures are inlined, its style is its own."""
