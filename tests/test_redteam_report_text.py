"""What a reader of a report sees, against text written to mislead them (red-team findings F5 and F6).

F5: an accepted proof holding a right-to-left override displayed as ending in `Admitted.` in report.md and
report.html although the prover checked something else. Every character a reader cannot see is shown as a
visible `⟨U+XXXX⟩` wherever the report shows text, and the report says how many a file held.

F6: the dashboard linked every `[Vn]` and digest found in the rendered report, so a rationale "rmse_u 0.0001 [V9]"
became a live citation of an accepted verdict that says otherwise. Only the writer's own citations and digests,
which it writes as links that escaped text cannot make, are linked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import escape

from agents import RunContext
from agents._markdown import escape_markdown, invisible_count, show_invisible
from agents._writer import RATIONALE_LABEL, write_report
from agents.llm import LLMConfig, OpenAIChat
from api._settings import Settings, build_catalog
from runs import ExperimentSpec, GateResult, RunStore
from tests.api_server import served_client
from tests.llm_server import Reply, Rule, ScriptedLLMServer
from tools.proofs import ProofsWorkload

RLO, LRI, PDI, ZWSP, BOM = "\u202e", "\u2066", "\u2069", "\u200b", "\ufeff"
PROOF = (
    "Theorem mathd_algebra_10 : True.\n"
    f'Proof.\n  idtac "{RLO} ;dettimdA .lra ";\n  exact I.\nQed.\n'
    f"(* {ZWSP}nothing to see *)\n"
)
"""An accepted proof that displays as ending in `lra. Admitted;` where the override is obeyed."""
INVISIBLE_IN_PROOF = 2


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, run_workers=0, max_workers=2)


@pytest.fixture
def server(settings: Settings) -> Iterator[httpx.Client]:
    with served_client(settings) as client:
        yield client


def _proof_run(store: RunStore, rationale: str = "") -> tuple[RunContext, int, str]:
    """A proofs run whose accepted experiment holds PROOF (and `rationale`, with `{digest}` standing for the
    proof's 12-digit prefix); its accepting verdict's reason quotes an isolate. Returns the context, the accepting
    verdict's id and the proof's digest."""
    task = build_catalog(Settings()).get("cfd/cavity")
    run = store.create_run(task, environment={"python": "3.11"})
    good = store.add_experiment(run.id, ExperimentSpec(key="good", task_id=task.id, params={"n": 1}))
    assert good.id is not None
    proof = store.add_artifact_bytes(run.id, PROOF.encode(), kind="proof", name="good/proof.v", experiment_id=good.id)
    reason = f"checked; the file says {LRI}accepted{PDI}"
    verdict = store.add_verdict(run.id, good.id, GateResult(gate="proof-check", decision="accept", reasons=[reason]))
    store.update_experiment(good.id, decision="accept", status="completed", evidence={"proof.v": proof.sha256})
    if rationale:
        store.update_experiment(good.id, rationale=rationale.format(digest=proof.sha256[:12]))
    no_sandbox: Any = None  # the write-up runs nothing in a sandbox
    context = RunContext(store=store, run_id=run.id, task=task, workload=ProofsWorkload(), sandbox_factory=no_sandbox)
    assert verdict.id is not None
    return context, verdict.id, proof.sha256


def _report_section(page: str) -> str:
    return page.split('id="report"', 1)[1].split("</section>", 1)[0]


def test_every_invisible_character_is_shown_as_a_marker() -> None:
    """Format characters (bidi controls, zero-width ones, the byte-order mark) and controls other than tab and line
    ends are shown as `⟨U+XXXX⟩`; visible text, right-to-left letters included, is left as it is."""
    text = f"a{RLO}b{LRI}c{PDI}{ZWSP}d{BOM}\u200d\u200e\x1b\t\u05d0\u3164"
    shown = show_invisible(text)
    for char in (RLO, LRI, PDI, ZWSP, BOM, "\u200d", "\u200e", "\x1b", "\u3164"):
        assert char not in shown and f"\u27e8U+{ord(char):04X}\u27e9" in shown
    assert "\t" in shown and "\u05d0" in shown and invisible_count(text) == 9
    assert escape_markdown(f"rmse {RLO}[V9]") == "rmse \u27e8U+202E\u27e9\\[V9\\]"


def test_an_accepted_proofs_invisible_characters_are_shown_in_the_report(server: httpx.Client, store: RunStore) -> None:
    """The proof in the report's code fence, the rationale and the verdict's reason show every invisible character
    as its marker, in report.md, report.html and the dashboard; the report counts the proof's; the stored proof keeps
    its exact bytes."""
    context, _, digest = _proof_run(store, rationale=f"the model's {RLO}proof")
    markdown = write_report(context).read_text(encoding="utf-8")
    html = (context.run_dir / "report.html").read_text(encoding="utf-8")
    page = server.get(f"/ui/runs/{context.run_id}").text
    for shown in (markdown, unescape(html), unescape(_report_section(page))):
        assert not any(char in shown for char in (RLO, LRI, PDI, ZWSP)), "an invisible character reached the reader"
        assert 'idtac "\u27e8U+202E\u27e9 ;dettimdA .lra ";' in shown
        assert "(* \u27e8U+200B\u27e9nothing to see *)" in shown
        assert "\u27e8U+2066\u27e9accepted\u27e8U+2069\u27e9" in shown  # the verdict's reason
        assert "the model's \u27e8U+202E\u27e9proof" in shown
        assert f"holds {INVISIBLE_IN_PROOF} invisible characters" in shown
    assert store.artifacts.open_path(digest).read_bytes() == PROOF.encode()  # the artifact is as the prover read it


def test_only_the_writers_own_citations_and_digests_are_linked(server: httpx.Client, store: RunStore) -> None:
    """A rationale quoting "[V1]" and the proof's digest prefix stays text in the dashboard, while the writer's own
    citations of V1 and its digest notes are links; the experiment card labels the rationale as the report does."""
    claim = "this proof reaches rmse_u 0.0001 [V1] (centreline figure {digest})"
    context, verdict_id, digest = _proof_run(store, rationale=claim)
    assert verdict_id == 1
    write_report(context)
    page = server.get(f"/ui/runs/{context.run_id}").text
    report = _report_section(page)
    quoted = next(p for p in re.findall(r"<p>.*?</p>", report, re.DOTALL) if "rmse_u 0.0001" in p)
    assert "[V1]" in quoted and digest[:12] in quoted and "<a " not in quoted and "unlinked" not in quoted
    assert '<a href="#verdict-1" class="citation">[V1]</a>' in report  # the writer's "Accepted by" and provenance
    assert f'<a href="/artifacts/{digest}" class="digest"' in report
    card = page.split('class="experiment"', 1)[1].split("</article>", 1)[0]
    assert f'<span class="rationale-label">{escape(RATIONALE_LABEL)}</span> this proof reaches' in card


def test_an_accepted_summarys_citations_stay_linked(server: httpx.Client, store: RunStore) -> None:
    """The model's summary is printed escaped, but its citations were checked by the write-up gate: they are the
    writer's own, and linked; a `[V1]` in a rationale beside it is not."""
    context, _, _ = _proof_run(store, rationale="as [V1] says")
    honest = "The proof of the good experiment was checked [V1]."
    with ScriptedLLMServer([Rule("Write a short summary", [Reply(content=honest)])]) as llm:
        context.llm = OpenAIChat(LLMConfig(base_url=llm.url, model="writer-model"))
        write_report(context)
    summary = _report_section(server.get(f"/ui/runs/{context.run_id}").text).split("Summary</h2>", 1)[1]
    summary = summary.split("<h2", 1)[0]
    assert 'checked <a href="#verdict-1" class="citation">[V1]</a>.' in summary
