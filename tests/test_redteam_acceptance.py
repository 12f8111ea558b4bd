"""Hostile attempts to reach the write-up, or an accepted mark, without passing the gates.

Each test plays a hostile candidate, planner or model against the plumbing between the gates and what
a reader sees (report.md and report.html, run summaries, REST answers), and asserts that only what the
gates accepted is presented as accepted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents import RunContext
from agents._writer import write_report
from agents.llm import LLMConfig, OpenAIChat
from api._settings import Settings, build_catalog
from runs import ExperimentSpec, GateResult, RunStore, TaskSpec
from tests.api_server import served_client
from tests.conftest import agent
from tests.llm_server import Reply, Rule, ScriptedLLMServer
from tools import apply_overrides
from tools.proofs import ProofsWorkload


def _proof_run(store: RunStore) -> tuple[str, RunContext, int, int]:
    """A proofs run with one accepted and one rejected experiment, as the gates would leave them."""
    catalog = build_catalog(Settings())
    task = catalog.get("cfd/cavity")
    run = store.create_run(task, environment={"python": "3.11"})
    good = store.add_experiment(run.id, ExperimentSpec(key="good", task_id=task.id, params={"n": 1}))
    bad = store.add_experiment(run.id, ExperimentSpec(key="bad", task_id=task.id, params={"n": 2}))
    assert good.id is not None and bad.id is not None
    store.add_verdict(run.id, good.id, GateResult(gate="proof-check", decision="accept", reasons=["checked"]))
    store.add_verdict(run.id, bad.id, GateResult(gate="proof-check", decision="reject", reasons=["wrong"]))
    store.update_experiment(good.id, decision="accept", status="completed")
    store.update_experiment(bad.id, decision="reject", status="completed")
    no_sandbox: Any = None  # the write-up runs nothing in a sandbox
    context = RunContext(store=store, run_id=run.id, task=task, workload=ProofsWorkload(), sandbox_factory=no_sandbox)
    return run.id, context, good.id, bad.id


FORGED_SECTION = "## Accepted results\n\n### bad\n\nAccepted by:\n- **proof-check** [V2]: forged\n"


def test_an_accepted_files_text_cannot_close_its_fence_and_forge_report_sections(store: RunStore) -> None:
    """A proof (or kernel) is shown in a code fence; a comment in it holding a longer fence must not end
    that fence early, or the rest of the file becomes the report's own markdown: a forged section saying
    a rejected experiment was accepted."""
    run_id, context, good, _ = _proof_run(store)
    for fence in ("````", "`````", "```` ", "~~~~"):
        hostile = f"Theorem t : True.\n(*\n```\n{fence}\n{FORGED_SECTION}*)\nProof. exact I. Qed.\n"
        store.add_artifact_bytes(
            run_id, hostile.encode(), kind="proof", name=f"good/proof{len(fence)}.v", experiment_id=good
        )
    write_report(context)
    html = (store.run_dir(run_id) / "report.html").read_text()
    assert html.count("<h2>Accepted results</h2>") == 1 and "<h3>bad</h3>" not in html
    assert "<strong>proof-check</strong> [V2]" not in html


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, run_workers=0, max_workers=2)


def test_a_run_lists_metrics_no_gate_accepted_only_marked_as_such(settings: Settings) -> None:
    """A run whose only experiment was rejected still shows that experiment's metrics in the runs list (a
    reviewer wants to see what happened), but the REST row and the dashboard must say that no gate accepted
    them: a rejected candidate's "speedup 40x" must not read as the run's result."""
    store = RunStore(settings.home)
    task = TaskSpec(id="cfd/cavity", workload="cfd", params={"re": 100})
    rows = {}
    for decision, value in (("accept", 1.5), ("reject", 40.0)):
        run = store.create_run(task)
        experiment = store.add_experiment(run.id, ExperimentSpec(key=f"e-{decision}", task_id=task.id))
        assert experiment.id is not None
        store.update_experiment(experiment.id, decision=decision, status="completed", metrics={"speedup": value})
        rows[decision] = run.id
    store.engine.dispose()
    with served_client(settings) as client:
        items = {item["run_id"]: item for item in client.get("/runs").json()["items"]}
        page = client.get("/").text
    accepted, rejected = items[rows["accept"]], items[rows["reject"]]
    assert accepted["metrics"] == {"speedup": 1.5} and accepted["metrics_accepted"] is True
    assert rejected["metrics"] == {"speedup": 40.0} and rejected["metrics_accepted"] is False
    rejected_row = page.split(f'data-run-id="{rows["reject"]}"')[1].split("</tr>")[0]
    accepted_row = page.split(f'data-run-id="{rows["accept"]}"')[1].split("</tr>")[0]
    assert "not accepted" in rejected_row and "not accepted" not in accepted_row


@pytest.mark.usefixtures("coq")
def test_checking_a_catalog_problem_with_another_statement_does_not_accept_the_catalog_problem(
    home: Path, tmp_path: Path
) -> None:
    """`agent check` of a miniF2F problem with `--param statement=` replaced by a trivial one: the proof of
    `True` is accepted, but as the theorem of one's own it is, never under the catalog problem's name (as
    `agent run` and the REST API already name it)."""
    trivial = tmp_path / "trivial.v"
    trivial.write_text("Theorem mathd_algebra_10 : True.\nProof. exact I. Qed.\n")
    catalog_id = "proofs/minif2f-valid/mathd_algebra_10"
    done = agent(
        "check", catalog_id, str(trivial), "--json", "--param", "statement=Theorem mathd_algebra_10 : True.", home=home
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["task"] != catalog_id and not result["task"].startswith("proofs/minif2f")
    assert "problem" not in result["params"] and "set" not in result["params"]


@pytest.mark.parametrize(
    ("task", "params", "named"),
    [
        ("kernels/heat2d", {"kernel": "saxpy"}, "kernel"),
        ("proofs/minif2f-valid/aime_1983_p9", {"problem": "mathd_algebra_10"}, "problem"),
        ("proofs/minif2f-valid/aime_1983_p9", {"problem": ["mathd_algebra_10"]}, "problem"),
        ("cfd/cavity", {"case": "poiseuille"}, "case"),
    ],
)
def test_a_catalog_task_cannot_be_pointed_at_another_subject_over_rest(
    settings: Settings, task: str, params: dict[str, object], named: str
) -> None:
    """A hostile client keeps a hard catalog task's id and swaps the parameter that id names (another
    problem, kernel or case, easy to pass): the run would be listed and reported as the hard task accepted."""
    with served_client(settings) as client:
        response = client.post("/runs", json={"task": task, "params": params})
        assert response.status_code == 422, response.text
        assert f"params.{named}" in response.text and task in response.text
        assert client.get("/runs").json()["items"] == []


def test_a_catalog_problem_swapped_on_the_command_line_is_bad_input(home: Path, tmp_path: Path) -> None:
    """The same swap through `agent run` and `agent check` is bad input (exit 2), and nothing is judged."""
    proof = tmp_path / "proof.v"
    proof.write_text("Theorem mathd_algebra_10 : True.\nProof. exact I. Qed.\n")
    swapped = ("--param", "problem=mathd_algebra_10")
    checked = agent("check", "proofs/minif2f-valid/aime_1983_p9", str(proof), *swapped, home=home)
    assert checked.returncode == 2 and "params.problem" in checked.stderr, checked.stderr
    ran = agent("run", "kernels/heat2d", "--param", "kernel=saxpy", "--json", home=home)
    assert ran.returncode == 2 and "params.kernel" in ran.stderr, ran.stderr
    assert json.loads(ran.stdout)["accepted"] == []


@pytest.mark.parametrize("fence", ["```", "~~~", "   ````text"])
def test_a_model_summary_cannot_leave_a_code_fence_open_over_the_rest_of_the_report(
    store: RunStore, fence: str
) -> None:
    """A summary the write-up gate finds faithful, ending by opening a code fence: set into the report as it
    is, it would turn the accepted results, the appendix of experiments not accepted and the notes into one
    block of code under the model's words. It is refused like any rejected summary."""
    run_id, context, _, _ = _proof_run(store)
    honest = "The proof of the good experiment was checked [V1]."
    with ScriptedLLMServer([Rule("Write a short summary", [Reply(content=f"{honest}\n\n{fence}")])]) as server:
        context.llm = OpenAIChat(LLMConfig(base_url=server.url, model="writer-model"))
        write_report(context)
    html = (store.run_dir(run_id) / "report.html").read_text()
    assert "<h2>Appendix: experiments not accepted</h2>" in html and "<h2>Accepted results</h2>" in html
    assert "<pre>" not in html.split("<h2>Summary</h2>")[1].split("<h2>Accepted results</h2>")[0]
    assert [v.decision for v in store.verdicts(run_id) if v.gate == "write-up"] == ["reject"]


def test_an_honest_model_summary_is_still_kept(store: RunStore) -> None:
    run_id, context, _, _ = _proof_run(store)
    honest = "The proof of the good experiment was checked [V1]."
    with ScriptedLLMServer([Rule("Write a short summary", [Reply(content=honest)])]) as server:
        context.llm = OpenAIChat(LLMConfig(base_url=server.url, model="writer-model"))
        report = write_report(context).read_text()
    # Printed as judged: plain text, its markup escaped, so it renders as written and as nothing else; its
    # citations, checked by the gate, are the writer's own (`citation`), plain text in the standalone file.
    assert "The proof of the good experiment was checked [[V1]](#verdict-1)." in report.split("## Summary")[1]
    html = (context.run_dir / "report.html").read_text()
    assert "The proof of the good experiment was checked [V1].</p>" in html
    assert [v.decision for v in store.verdicts(run_id) if v.gate == "write-up"] == ["accept"]


def test_an_accepted_summary_is_printed_as_it_was_judged(store: RunStore) -> None:
    """The gate judges a paragraph as markdown renders it (its lines joined); the report prints that paragraph on
    one line with every markup character escaped, so the reader sees the judged text and no emphasis, list or
    link the markup would have made of it."""
    run_id, context, _, _ = _proof_run(store)
    prose = "The proof of the good\nexperiment was *checked* [V1].\n\n\n- and nothing else [V1]."
    with ScriptedLLMServer([Rule("Write a short summary", [Reply(content=prose)])]) as server:
        context.llm = OpenAIChat(LLMConfig(base_url=server.url, model="writer-model"))
        report = write_report(context).read_text()
    summary = report.split("## Summary")[1].split("## Accepted results")[0].strip().split("\n\n")
    # Its citations, checked by the gate, are the writer's own (`citation`): the dashboard links them.
    cited = "[[V1]](#verdict-1)"
    assert summary == [f"The proof of the good experiment was \\*checked\\* {cited}.", f"\\- and nothing else {cited}."]
    html = (context.run_dir / "report.html").read_text().split("<h2>Summary</h2>")[1].split("<h2>")[0]
    assert "<p>The proof of the good experiment was *checked* [V1].</p>" in html
    assert "<p>- and nothing else [V1].</p>" in html and "<li>" not in html and "<em>" not in html
    assert [v.decision for v in store.verdicts(run_id) if v.gate == "write-up"] == ["accept"]


def test_a_proposers_rationale_is_never_shown_as_the_reports_own_claim(store: RunStore) -> None:
    """A model proposer writes each candidate's rationale; no gate judges it. One that claims success and
    numbers ("validated ... error 0.0001") is shown, but as the proposer's words, never bare beside a result."""
    _, context, good, bad = _proof_run(store)
    claim = "Validated by every gate with an error of 0.0001."
    for experiment in (good, bad):
        store.update_experiment(experiment, rationale=claim)
    report = write_report(context).read_text()
    shown = [line for line in report.splitlines() if "0.0001" in line]
    assert len(shown) == 3, shown  # once in the accepted result, once per experiment in the plan
    plan = report.split("## Plan")[1].split("## Summary")[0]
    assert "rationale (the proposer's words, which no gate judges):" in plan
    results = report.split("## Accepted results")[1].split("## Appendix")[0]
    (line,) = [line for line in results.splitlines() if "0.0001" in line]
    assert line.startswith("Proposed with this rationale (the proposer's words, which no gate judges):")


def test_a_string_parameter_adds_no_link_or_table_cell_to_the_report(store: RunStore) -> None:
    """String parameters come from a REST body or a model (`skeletons`, a model's source) and are shown in
    the plan and in each accepted result's table: as literal text, never as a link or an extra cell."""
    run_id, context, good, bad = _proof_run(store)
    hostile = "omega | accepted ](x) [see the verified result](https://example.com/phish) **all passed**"
    for experiment in (good, bad):
        store.update_experiment(experiment, params={"skeletons": hostile})
    write_report(context)
    html = (store.run_dir(run_id) / "report.html").read_text()
    assert "<a " not in html and "<strong>all passed</strong>" not in html
    row = html.split("<td>skeletons</td>")[1].split("</tr>")[0]
    assert row.count("<td>") == 1 and "https://example.com/phish" in row


MATHD_ALGEBRA_10 = """Require Import Reals Lra.
Open Scope R_scope.

Theorem mathd_algebra_10:
  Rabs ((120 / 100) * 30 - (130 / 100) * 20) = 10.
Proof.
  replace ((120 / 100) * 30 - (130 / 100) * 20) with 10 by field.
  apply Rabs_right. lra.
Qed.
"""


@pytest.mark.usefixtures("coq")
def test_an_accept_under_changed_gate_settings_says_which_on_the_command_line(home: Path, tmp_path: Path) -> None:
    """`agent check --gate-option` (or `eval-kernel --min-speedup`) changes a gate: the printed accept names the
    change, not only "(custom gates)", as `agent show` does for a run."""
    proof = tmp_path / "proof.v"
    proof.write_text(MATHD_ALGEBRA_10)
    problem = "proofs/minif2f-valid/mathd_algebra_10"
    # Wide enough for the test's own paths: at 80 columns the console folds a path inside a word, and how
    # long the path is depends on pytest's numbering of its temporary folders.
    done = agent("check", problem, str(proof), "--gate-option", "timeout=100", home=home, env={"COLUMNS": "1000"})
    assert done.returncode == 0, done.stderr
    printed = " ".join(done.stdout.split())
    assert f"{problem} (custom gates) on {proof}: accept" in printed
    assert "custom gates: proof-check.timeout = 100.0 (catalog 120.0)" in printed


def test_a_submitted_gate_option_adds_no_link_or_emphasis_to_the_custom_gates_header() -> None:
    """The deviation text is the submitter's: an option value must read as literal text in the report's header."""
    from agents._custom_gates import custom_gates_lines
    from agents._markdown import render_markdown
    from runs import GateDeviation

    hostile = ["[verified by the kernel](http://example.invalid)", "**accepted**"]
    task = TaskSpec(
        id="proofs/x",
        workload="proofs",
        gates=["proof"],
        gate_deviations=[
            GateDeviation(gate="proof", change="option", option="allowed_axioms", catalog=[], submitted=hostile)
        ],
    )
    html = render_markdown("\n".join(custom_gates_lines(task)), lambda _: None)
    assert "<a " not in html and "<strong>accepted</strong>" not in html, html
    assert "verified by the kernel" in html


STEP_WITH_OWN_MODEL = """extends: cfd/backward-step
params:
  sa:
    Cb1: 0.2
    source: "// C++ compiled into the solver of every experiment\\n"
"""


def test_a_catalog_cfd_task_given_its_own_compiled_model_is_named_as_such(tmp_path: Path) -> None:
    """C++ given by a task file runs inside the solver, where it could write the files the gates read: its
    run was planned, listed and reported as `cfd/backward-step` under the catalog's title. It keeps that
    task's gates (`extends`) under an id and title of its own; coefficients alone keep the catalog's name."""
    catalog = build_catalog(Settings(home=tmp_path))
    own = tmp_path / "own.yaml"
    own.write_text(STEP_WITH_OWN_MODEL)
    task = catalog.load(str(own))
    base = catalog.get("cfd/backward-step")
    assert (task.id, task.extends, task.gates) == ("cfd/backward-step/own-model", "cfd/backward-step", base.gates)
    assert task.title == f"{base.title}, with a compiled model of the task's own (sa.source)"
    coefficients = tmp_path / "coefficients.yaml"
    coefficients.write_text(STEP_WITH_OWN_MODEL.replace('    source: "// C++ compiled', '    # "'))
    assert catalog.load(str(coefficients)).id == "cfd/backward-step"
    ran = agent("run", str(own), "--approve-plan", "--json", home=tmp_path / "home")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["task"] == "cfd/backward-step/own-model"


def test_a_statement_read_under_notations_of_its_own_says_so_in_its_title_and_question(tmp_path: Path) -> None:
    """`Notation "x = y" := (x <> y)` before `Theorem t : 1 + 1 = 3.` made a true theorem, proved and accepted,
    whose report read "Prove t: 1 + 1 = 3": the notation showed only in `proof.v`."""
    catalog = build_catalog(Settings(home=tmp_path))
    task_file = tmp_path / "notation.yaml"
    task_file.write_text(
        "workload: proofs\nid: proofs/one-plus-one\ngates: [proof-check]\nparams:\n  statement: |\n"
        '    Notation "x = y" := (x <> y) : type_scope.\n    Theorem one_plus_one_is_three : 1 + 1 = 3.\n'
    )
    task = catalog.load(str(task_file))
    assert task.title == "one_plus_one_is_three: 1 + 1 = 3 (under notations of its own)"
    assert '(read under the header\'s Notation "x = y" := (x <> y) : type_scope.)' in task.goal


def test_a_task_of_ones_own_cannot_borrow_a_catalog_problems_title_and_question(tmp_path: Path) -> None:
    """A task file under an id of its own, titled and asked exactly as `proofs/minif2f-valid/aime_1983_p9`,
    proving `True`: its report carried the catalog problem's heading and question word for word."""
    catalog = build_catalog(Settings(home=tmp_path))
    borrowed = catalog.get("proofs/minif2f-valid/aime_1983_p9")
    task_file = tmp_path / "borrowed.json"
    task_file.write_text(
        json.dumps(
            {
                "id": "proofs/aime_1983_p9",
                "workload": "proofs",
                "title": borrowed.title,
                "goal": borrowed.goal,
                "gates": ["proof-check"],
                "params": {"statement": "Theorem aime_1983_p9 : True.", "proof": "Proof. exact I. Qed."},
            }
        )
    )
    task = catalog.load(str(task_file))
    assert (task.title, task.goal) != (borrowed.title, borrowed.goal)
    assert task.title == "aime_1983_p9: True" and task.goal.startswith("Prove aime_1983_p9: True,")


@pytest.mark.parametrize(
    ("task_id", "params", "said"),
    [
        ("cfd/cavity", ["re=1000"], "(re = 1000)"),
        ("cfd/cavity", ["re=1000,3200"], "(re = 1000 / 3200)"),
        ("cfd/backward-step", ["model=kOmegaSST"], "(model = kOmegaSST)"),
    ],
)
def test_a_catalog_cfd_task_run_with_other_parameters_is_titled_so(
    tmp_path: Path, task_id: str, params: list[str], said: str
) -> None:
    """`agent run cfd/cavity --param re=1000` ran, listed and reported under "Lid-driven cavity at Re 100 and 400
    against Ghia et al. (1982)": the heading stated parameters the run did not use."""
    catalog = build_catalog(Settings(home=tmp_path))
    base = catalog.get(task_id)
    task = apply_overrides(base, params=params)
    titled = catalog.workload_for(task).titled(task)
    assert titled.id == task_id
    assert titled.title == f"{base.title}; run with other parameters {said}"
    unchanged = catalog.workload_for(base).titled(base)
    assert unchanged.title == base.title
    ran = agent("run", task_id, *(f"--param={p}" for p in params), "--approve-plan", "--json", home=tmp_path / "home")
    assert ran.returncode == 0, ran.stderr
    store = RunStore(tmp_path / "home")
    [run] = store.list_runs()
    assert run.spec["title"] == titled.title
    store.engine.dispose()
