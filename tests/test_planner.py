"""The planner: documents and a goal in, plans that cite their passages out; built-in and LLM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agents.llm import LLMConfig, OpenAIChat
from agents.planner import (
    DocumentError,
    GoalError,
    PassageIndex,
    extract_values,
    load_documents,
    make_plans,
    plan_to_task,
)
from api._settings import Settings, build_catalog
from api.cli import main
from tests.conftest import agent
from tests.llm_server import Reply, Rule, ScriptedLLMServer, message_text
from tests.pdfs import one_page_pdf
from tools.cfd import CfdWorkload

CORPUS = Path(__file__).parent / "data" / "corpus"
CAVITY_GOAL = "validate the solver on the lid-driven cavity benchmark of Ghia"


def _tiny_pdf(path: Path, text: str) -> None:
    """A one-page PDF with a text line, written by hand (no PDF library needed)."""
    path.write_bytes(one_page_pdf(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()))


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
    patterns = CfdWorkload().prose_patterns()  # the planner reads the task's workload's patterns
    assert extract_values(patterns["re"], "at Reynolds numbers of 100 and 400, on a 48 x 48 grid") == [100, 400]
    assert extract_values(patterns["re"], "Re = 1,000 and Re=3200") == [1000, 3200]
    assert extract_values(patterns["cells"], "on a 48 x 48 grid and a 96×96 mesh") == [48, 96]
    assert extract_values(patterns["turbulence_model"], "k-omega SST and Spalart-Allmaras") == [
        "kOmegaSST",
        "SpalartAllmaras",
    ]


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
        # The model sees the few tasks retrieved for the goal, not the whole catalog of hundreds.
        prompt = json.loads(server.requests[0]["body"]["messages"][1]["content"])
        offered = [task["id"] for task in prompt["candidate_tasks"]]
        assert offered[0] == "cfd/cavity" and len(offered) <= 6
    assert result.planner == "planner-model"
    # The repair call counts too; the scripted server reports 11 prompt tokens for prompts of thousands of
    # characters, so each call is charged what its characters prove (32 a token at most), not less.
    assert result.llm_calls == 2 and result.llm_tokens > 2 * (11 + 7)
    [plan] = result.plans
    assert plan.task_id == "cfd/cavity" and plan.sweep == {"re": [100, 400]}
    assert plan.citations[0].passage == "cavity-study.md#2" and plan.rationale.startswith("planner-model:")
    assert result.unmapped[0].unmapped_reason.startswith("no available tool")


def test_llm_planner_keeps_the_notes_on_what_was_not_read(tmp_path: Path) -> None:
    """What the documents' reading noted (a spreadsheet it cannot read) is said with a model planning too, beside
    the model's own notes, as with the built-in planner."""
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    (docs / "results.xlsx").write_bytes(b"PK\x03\x04 not a document format")
    good = {"plans": [{"task_id": "cfd/cavity", "sweep": {"re": [100]}, "citations": ["cavity-study.md#2"],
                       "rationale": "the notes ask for Re 100"}]}  # fmt: skip
    with ScriptedLLMServer([Rule("You are the planner", [Reply(content=json.dumps(good))])]) as server:
        llm = OpenAIChat(LLMConfig(base_url=server.url, model="planner-model"))
        result = make_plans(build_catalog(Settings()), docs, CAVITY_GOAL, llm)
    assert result.plans and any(note.startswith("not read: results.xlsx") for note in result.notes), result.notes


@pytest.mark.slow
def test_llm_planner_refusal_keeps_the_closest_tasks() -> None:
    null = {"plans": [{"task_id": None, "citations": ["cavity-study.md#1"], "rationale": "no airfoil case"}]}
    with ScriptedLLMServer([Rule("You are the planner", [Reply(content=json.dumps(null))])]) as server:
        llm = OpenAIChat(LLMConfig(base_url=server.url, model="planner-model"))
        catalog = build_catalog(Settings())
        result = make_plans(catalog, CORPUS, "flow over an airfoil", llm)
        prompt = json.loads(server.requests[0]["body"]["messages"][1]["content"])
        assert [task["id"] for task in prompt["candidate_tasks"]] == ["cfd/poiseuille"]
        # A goal that shares no word with any task is refused without asking the model.
        unrelated = make_plans(catalog, CORPUS, "forecast tomorrow's weather", llm)
        assert len(server.requests) == 1
    assert result.plans == [] and result.refusal is not None
    assert result.refusal.closest[0].task_id == "cfd/poiseuille"
    assert unrelated.plans == [] and unrelated.refusal is not None and "weather" in unrelated.refusal.reason


def test_agent_plan_cli(home: Path) -> None:
    result = agent("plan", "--docs", str(CORPUS), CAVITY_GOAL, "--json", home=home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["plans"][0]["task_id"] == "cfd/cavity"
    missing = agent("plan", "--docs", str(home / "nowhere"), "x", home=home)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def _best(goal: str, documents: Path = CORPUS) -> tuple[str | None, dict[str, object]]:
    result = make_plans(build_catalog(Settings()), documents, goal)
    if not result.plans:
        assert result.refusal is not None
        return None, {}
    assert result.refusal is None
    best = result.plans[0]
    return best.task_id, {**best.params, **best.sweep}


def test_a_goal_whose_subject_no_task_has_is_refused_naming_the_closest_tasks() -> None:
    result = make_plans(build_catalog(Settings()), CORPUS, "flow over an airfoil")
    assert result.plans == [] and result.refusal is not None
    assert "airfoil" in result.refusal.reason and result.refusal.subject == ["airfoil"]
    [closest] = result.refusal.closest
    assert closest.task_id == "cfd/poiseuille" and "generic words (flow)" in closest.why_not
    assert result.unmapped[0].unmapped_reason.startswith("no tool for this: ")
    # Generic words alone never choose a task, however many tasks share them.
    for goal in ("evolve a faster kernel", "simulate a flow", "optimise a matrix multiplication kernel"):
        assert _best(goal) == (None, {}), goal


def test_an_empty_goal_is_bad_input_not_every_plan() -> None:
    for goal in ("", "   \n"):
        with pytest.raises(GoalError, match="the goal is empty"):
            make_plans(build_catalog(Settings()), CORPUS, goal)


def test_the_goals_subject_chooses_the_task() -> None:
    assert _best("evolve a faster n-body kernel")[0] == "kernels/nbody"
    assert _best("validate the solver on the lid-driven cavity")[0] == "cfd/cavity"  # the README's goal
    assert _best("speed up the fast Fourier transform")[0] == "kernels/fft3d"  # an acronym spelled out
    assert _best("make the lattice Boltzmann update quicker")[0] == "kernels/lbm"
    assert _best("reattachment behind a backward-facing step")[0] == "cfd/backward-step"
    assert _best("laminar channel flow against the analytic profile")[0] == "cfd/poiseuille"
    # A goal that names no subject is matched on the passages it retrieves.
    assert _best("validate the solver as the notes describe")[0] == "cfd/cavity"


def test_a_task_is_found_by_the_name_of_its_field_not_only_its_kernel() -> None:
    """The suite's titles say what each kernel computes in its field's words, so a goal in those words
    finds it instead of being refused as about something no task knows."""
    assert _best("Lennard-Jones molecular dynamics kernel")[0] == "kernels/lj"
    assert _best("Ising model Monte Carlo kernel")[0] == "kernels/ising"  # before Hamiltonian Monte Carlo
    assert _best("3-D acoustic wave propagation kernel")[0] == "kernels/wave3d"
    assert _best("a tokamak plasma equilibrium kernel")[0] == "kernels/gradshaf"
    assert _best("predict separation behind a step with three turbulence models")[0] == "cfd/backward-step"


def test_parameters_are_read_from_the_goal_by_the_tasks_schema(tmp_path: Path) -> None:
    task, values = _best("the pitzDaily step with k-omega SST and k-epsilon at a Reynolds number of 30,000")
    assert task == "cfd/backward-step" and values == {"model": ["kOmegaSST", "kEpsilon"], "re": 30000}
    task, values = _best("a faster saxpy kernel: 200 evaluations with the islands search")
    assert task == "kernels/saxpy" and values == {"evaluations": 200, "search": "islands"}
    # A plain word is a parameter value only when the parameter is named next to it.
    assert _best("find the best saxpy kernel") == ("kernels/saxpy", {})
    # The goal's values win over the documents'; the documents fill in the rest.
    task, values = _best("the lid-driven cavity at Re 1000")
    assert task == "cfd/cavity" and values == {"re": [1000], "cells": 48}
    # A value the schema refuses is not read.
    notes = tmp_path / "notes.md"
    notes.write_text("Run the lid-driven cavity at a Reynolds number of 50,000 on a 2000 x 2000 grid.")
    assert _best("the lid-driven cavity", notes) == ("cfd/cavity", {})


def test_proof_problems_are_chosen_by_id_and_the_set_by_a_generic_goal() -> None:
    assert _best("prove mathd_algebra_10")[0] == "proofs/minif2f-valid/mathd_algebra_10"
    assert _best("prove AIME 1983 problem 1")[0] == "proofs/minif2f-test/aime_1983_p1"
    result = make_plans(build_catalog(Settings()), CORPUS, "prove some theorems")
    assert sorted(plan.task_id or "" for plan in result.plans) == ["proofs/minif2f-test", "proofs/minif2f-valid"]
    assert _best("prove the statements of the miniF2F valid split")[0] == "proofs/minif2f-valid"
    assert _best("prove the Riemann hypothesis") == (None, {})
    assert _best("prove imo_2031_p7") == (None, {})  # a problem id the catalog has no task for


def test_agent_plan_refuses_with_exit_code_1(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = agent("plan", "--docs", str(CORPUS), "flow over an airfoil", home=home)
    assert refused.returncode == 1, refused.stderr
    assert "no tool for this" in refused.stdout and "cfd/poiseuille" in refused.stdout
    assert "Traceback" not in refused.stderr
    monkeypatch.setenv("LABGATE_HOME", str(home))
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--docs", str(CORPUS), "flow over an airfoil", "--json"])
    assert exited.value.code == 1 and json.loads(capsys.readouterr().out)["refusal"]["subject"] == ["airfoil"]
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--docs", str(CORPUS), ""])
    assert exited.value.code == 2 and "the goal is empty" in capsys.readouterr().err


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
