"""The planner: documents and a goal in, plans that cite their passages out; built-in and LLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.llm import LLMConfig, OpenAIChat
from agents.planner import DocumentError, PassageIndex, extract_values, load_documents, make_plans, plan_to_task
from api._settings import Settings, build_catalog
from tests.conftest import agent
from tests.llm_server import Reply, Rule, ScriptedLLMServer, message_text

CORPUS = Path(__file__).parent / "data" / "corpus"
CAVITY_GOAL = "validate the solver on the lid-driven cavity benchmark of Ghia"


def _tiny_pdf(path: Path, text: str) -> None:
    """A one-page PDF with a text line, written by hand (no PDF library needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))


def test_documents_become_citable_passages(tmp_path: Path) -> None:
    for source in CORPUS.iterdir():
        (tmp_path / source.name).write_text(source.read_text())
    _tiny_pdf(tmp_path / "memo.pdf", "Measure the cavity at a Reynolds number of 1000.")
    passages = load_documents(tmp_path)
    sources = {p.source for p in passages}
    assert sources == {"cavity-study.md", "docking-notes.md", "memo.pdf"}
    memo = next(p for p in passages if p.source == "memo.pdf")
    assert memo.location == "page 1" and "Reynolds number of 1000" in memo.text
    assert all(p.id.startswith(f"{p.source}#") for p in passages)
    hits = PassageIndex(passages).search("lid driven cavity centreline", limit=3)
    assert hits[0][0].source == "cavity-study.md"


def test_unreadable_documents_are_named(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        load_documents(tmp_path / "missing")
    with pytest.raises(DocumentError, match="no documents"):
        load_documents(tmp_path)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(DocumentError, match=r"broken\.pdf"):
        load_documents(tmp_path)


def test_parameter_rules_read_prose() -> None:
    assert extract_values("re", "at Reynolds numbers of 100 and 400, on a 48 x 48 grid") == [100, 400]
    assert extract_values("re", "Re = 1,000 and Re=3200") == [1000, 3200]
    assert extract_values("cells", "on a 48 x 48 grid and a 96×96 mesh") == [48, 96]
    assert extract_values("turbulence_model", "k-omega SST and Spalart-Allmaras") == ["kOmegaSST", "SpalartAllmaras"]


def test_builtin_planner_maps_the_corpus_to_the_cavity_task() -> None:
    catalog = build_catalog(Settings())
    result = make_plans(catalog, CORPUS, CAVITY_GOAL)
    assert result.planner.startswith("builtin") and result.documents == 2
    best = result.plans[0]
    assert best.task_id == "cfd/cavity"
    assert best.sweep == {"re": [100, 400]} and best.params == {"cells": 48}
    assert any(c.passage.startswith("cavity-study.md#") and "Reynolds" in c.quote for c in best.citations)
    task = plan_to_task(catalog, best, CAVITY_GOAL)
    assert task.params["cells"] == 48 and task.sweep["re"] == [100, 400] and task.goal == CAVITY_GOAL


def test_a_goal_no_tool_serves_is_reported_not_planned() -> None:
    result = make_plans(build_catalog(Settings()), CORPUS, "dock the ligand library into the protein binding pocket")
    assert result.plans == []
    assert len(result.unmapped) == 1 and result.unmapped[0].task_id is None
    assert result.unmapped[0].citations[0].source == "docking-notes.md"
    assert "no task in the catalog" in result.unmapped[0].unmapped_reason


def test_llm_planner_is_validated_and_repaired() -> None:
    bad = {
        "plans": [
            {
                "task_id": "cfd/cavity",
                "sweep": {"re": [100, -5]},
                "citations": ["cavity-study.md#2"],
                "rationale": "validate",
            }
        ]
    }
    good = {
        "plans": [
            {
                "task_id": "cfd/cavity",
                "sweep": {"re": [100, 400]},
                "params": {"cells": 48},
                "citations": ["cavity-study.md#2"],
                "rationale": "the notes ask for Re 100 and 400 on 48x48",
            },
            {"task_id": None, "citations": ["docking-notes.md#1"], "rationale": "ligand docking needs a docking code"},
        ]
    }
    rules = [Rule("You are the planner", [Reply(content=json.dumps(bad)), Reply(content=json.dumps(good))])]
    with ScriptedLLMServer(rules) as server:
        llm = OpenAIChat(LLMConfig(base_url=server.url, model="planner-model"))
        result = make_plans(build_catalog(Settings()), CORPUS, CAVITY_GOAL, llm)
        assert len(server.requests) == 2
        assert "re: Input should be greater than 0" in message_text(server.requests[1]["body"])
    assert result.planner == "planner-model"
    [plan] = result.plans
    assert plan.task_id == "cfd/cavity" and plan.sweep == {"re": [100, 400]}
    assert plan.citations[0].passage == "cavity-study.md#2" and plan.rationale.startswith("planner-model:")
    assert result.unmapped[0].unmapped_reason.startswith("no available tool")


def test_agent_plan_cli(home: Path) -> None:
    result = agent("plan", "--docs", str(CORPUS), CAVITY_GOAL, "--json", home=home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["plans"][0]["task_id"] == "cfd/cavity"
    missing = agent("plan", "--docs", str(home / "nowhere"), "x", home=home)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_agent_run_from_documents_cites_its_sources(home: Path) -> None:
    result = agent("run", "--docs", str(CORPUS), CAVITY_GOAL, "--json", home=home)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(summary["accepted"]) == ["re=100", "re=400"]
    report = Path(summary["report"]).read_text()
    assert "cavity-study.md#2" in report and CAVITY_GOAL in report
    unmapped = agent("run", "--docs", str(CORPUS), "dock the ligand library into the protein", "--json", home=home)
    assert unmapped.returncode == 1
    assert "no available tool" in json.loads(unmapped.stdout)["reason"]
