"""CFD proposals that stay inside the contract (every value valid, inside every bound) but make a gate easier.

An optimiser that cannot write outside the box can still choose *which* valid values to run: a revision
that answers an easier question than the failed experiment (another Reynolds number that the reference
also tabulates), numerics that leave a self-referential gate less to see, another spelling of a parameter
that the checks read by name, or a model the held-out gate can only compare with itself. Each attack runs
through the real workload, policy, graph and gates, beside an honest control that still passes.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agents._graph import Orchestrator
from agents._policy import BuiltinRevisionPolicy, JudgedExperiment, LLMProposal, LLMRevisionPolicy
from runs import ExperimentSpec, RunStore, TaskSpec
from sandboxes import LocalSandbox
from tests.conftest import agent
from tests.llm_server import Reply, Rule, ScriptedLLMServer, message_text
from tools import ExperimentOutcome, TaskError
from tools.cfd import CfdWorkload, case_definitions
from tools.cfd.cases._roles import SCHEMA_NOTE, unclassified
from verifiers import GateContext, get_gate, run_gate

WORKLOAD = CfdWorkload()
FORGING_MODEL = '#include <fstream>\nstatic const int f = (std::ofstream("postProcessing/forged") << "ok", 0);\n'


def _task(task_id: str) -> TaskSpec:
    return next(task for task in WORKLOAD.tasks() if task.id == task_id)


def _planned(task_id: str) -> ExperimentSpec:
    """The first experiment the catalog task plans (what a revision reruns)."""
    return WORKLOAD.plan(_task(task_id))[0]


def _with(params: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """`params` with `change`, a name spelled otherwise (`Re`) standing in for the one it replaces (`re`)."""
    replaced = {name.lower() for name in change}
    return {**{name: value for name, value in params.items() if name.lower() not in replaced}, **change}


def _user_case(tmp_path: Path, **params: Any) -> TaskSpec:
    case = tmp_path / "case"
    (case / "system").mkdir(parents=True, exist_ok=True)
    (case / "system" / "controlDict").write_text("application icoFoam;\nendTime 0.5;\n")
    return TaskSpec(id="cfd/case", workload="cfd", params={"case": "case", "case_dir": str(case), **params})


# -- a revision answers the question of the experiment it reruns -------------------------------------------


HOSTILE_REVISIONS = [
    # (catalog task, change a revision proposes, the parameter its refusal names)
    ("cfd/cavity", {"re": 400}, "re"),  # the sweep's other point: a rerun of Re 100 may not answer Re 400
    ("cfd/cavity", {"Re": "1000"}, "re"),  # spelled otherwise and as a string; Ghia tabulates Re 1000 too
    ("cfd/cavity", {"lid_velocity": 2.0}, "lid_velocity"),
    ("cfd/cavity", {"length": 1.0}, "length"),
    ("cfd/cavity", {"cells": 32}, "cells"),  # coarser than the 64 it revises
    ("cfd/cavity", {"convective_times": 5}, "convective_times"),  # cut short of the default 20 + 30 log(Re/100)
    ("cfd/cavity", {"courant": 1.6}, "courant"),  # a longer time step
    ("cfd/cavity", {"delta_t": 1.0e-2}, "delta_t"),  # longer than the Courant number's step
    ("cfd/cavity", {"snapshots": 1}, "snapshots"),
    ("cfd/poiseuille", {"re": 500}, "re"),  # the other sweep point: still another question
    ("cfd/poiseuille", {"bulk_velocity": -1.0}, "bulk_velocity"),
    ("cfd/poiseuille", {"height": 0.2}, "height"),
    ("cfd/poiseuille", {"iterations": 100}, "iterations"),
    ("cfd/poiseuille", {"residual": 0.5}, "residual"),  # a residual target met at once
    ("cfd/backward-step", {"model": "kOmegaSST"}, "model"),  # kEpsilon failed; another model is another answer
    ("cfd/backward-step", {"inlet_velocity": 20.0}, "inlet_velocity"),
    ("cfd/backward-step", {"refinement": 0.5}, "refinement"),
    ("cfd/backward-step", {"sa": {"Cb1": 0.2}}, "sa"),
    ("cfd/periodic-hill", {"sa": {"Cb1": 0.3}}, "sa"),  # a rerun of a candidate may not become another one
    ("cfd/periodic-hill", {"model": "kOmegaSST"}, "model"),
    ("cfd/periodic-hill", {"re": 5800}, "re"),  # inside the comparator's 5 % of the DNS's 5600
    ("cfd/periodic-hill", {"cells_x": 60, "cells_y": 40}, "cells_x"),  # coarser mesh for the baseline too
    ("cfd/periodic-hill", {"wall_cell": 0.01}, "wall_cell"),
    ("cfd/periodic-hill", {"relaxation": 1.0}, "relaxation"),
]


@pytest.mark.parametrize(("task_id", "change", "named"), HOSTILE_REVISIONS)
def test_a_revision_may_not_change_the_question_or_loosen_the_numerics(
    task_id: str, change: dict[str, Any], named: str
) -> None:
    """Got through before: a revision was checked against the task only, where every one of these is valid."""
    task = _task(task_id)
    revised = _planned(task_id)
    proposal = _with(revised.params, change)
    WORKLOAD.validate_experiment(task, proposal)  # valid for the task: a planned experiment could have it
    with pytest.raises(TaskError, match=rf"not a rerun of {revised.key}.*\b{named}\b"):
        WORKLOAD.validate_revision(task, revised, proposal)


HONEST_REVISIONS = [
    ("cfd/cavity", {"cells": 96, "convective_times": 60, "courant": 0.4}),
    ("cfd/cavity", {"CELLS": "96", "re": "1e2"}),  # another spelling of the same values
    ("cfd/cavity", {"delta_t": 1e-4}),  # a step shorter than the Courant number's
    ("cfd/poiseuille", {"cells": 40, "iterations": 4000, "residual": 1e-7}),
    ("cfd/backward-step", {"refinement": 1.5, "iterations": 4000, "sa": {"Cb1": 0.1355}}),  # a default written out
    ("cfd/periodic-hill", {"cells_x": 180, "cells_y": 120, "wall_cell": 0.001, "relaxation": 0.7}),
]


@pytest.mark.parametrize(("task_id", "change"), HONEST_REVISIONS)
def test_a_revision_may_solve_the_same_flow_more_carefully(task_id: str, change: dict[str, Any]) -> None:
    revised = _planned(task_id)
    WORKLOAD.validate_revision(_task(task_id), revised, _with(revised.params, change))


@pytest.mark.parametrize("task_id", ["cfd/cavity", "cfd/poiseuille", "cfd/backward-step", "cfd/periodic-hill"])
def test_every_gentler_rerun_the_workload_proposes_is_a_revision(task_id: str) -> None:
    """The built-in policy's numerics variants, chained as a run would chain them, all pass the rule."""
    task, revised = _task(task_id), _planned(task_id)
    for _ in range(4):
        variant = WORKLOAD.numerics_variant(revised)
        if variant is None:
            break
        WORKLOAD.validate_revision(task, revised, variant[0])
        revised = revised.model_copy(update={"params": variant[0], "attempt": revised.attempt + 1})


def test_a_users_case_keeps_its_end_time_mesh_and_velocity_scale(tmp_path: Path) -> None:
    """Got through before: a revision of a user's case could end it sooner (`end_time`, from the case's own to
    a tenth of it) or run it coarser, which mesh independence, comparing the run with its own refinement,
    does not see; and it could move a swept u_ref to the sweep's other value."""
    task = _user_case(tmp_path, end_time=0.5)
    revised = ExperimentSpec(key="case", task_id=task.id, params=dict(task.params))
    for change, named in (
        ({"end_time": 0.05}, "end_time"),
        ({"end_time": None}, "end_time"),  # back to the case's own: not shown to be no shorter
        ({"mesh_factor": 1.0, "end_time": 0.5}, None),  # unchanged: fine
        ({"mesh_factor": 2.0, "end_time": 1.0}, None),  # finer and longer: fine
    ):
        proposal = {**task.params, **change}
        if named is None:
            WORKLOAD.validate_revision(task, revised, proposal)
            continue
        with pytest.raises(TaskError, match=rf"\b{named}\b"):
            WORKLOAD.validate_revision(task, revised, proposal)
    finer = ExperimentSpec(key="case-a2", task_id=task.id, params={**task.params, "mesh_factor": 2.0})
    with pytest.raises(TaskError, match=r"mesh_factor may only go up"):
        WORKLOAD.validate_revision(task, finer, dict(task.params))
    swept = task.model_copy(update={"sweep": {"u_ref": [1.0, 50.0]}})
    at_one = ExperimentSpec(key="u_ref=1", task_id=task.id, params={**task.params, "u_ref": 1.0})
    WORKLOAD.validate_experiment(swept, {**task.params, "u_ref": 50.0})  # a value the task itself sweeps
    with pytest.raises(TaskError, match=r"u_ref is what a gate judges against"):
        WORKLOAD.validate_revision(swept, at_one, {**task.params, "u_ref": 50.0})


# -- another spelling of a fixed parameter --------------------------------------------------------------------


def test_another_spelling_cannot_reach_a_fixed_parameter(tmp_path: Path) -> None:
    """Got through before: the fixed parameters were read by the name as written, while `parse` matches names
    without regard to case, so `SA: {source: ...}` compiled a proposal's C++ into the solver, `U_REF` moved the
    physical-range gate's bound, and `CASE_DIR` beside the task's `case_dir` ran another folder of the machine."""
    hill = _task("cfd/periodic-hill")
    with pytest.raises(TaskError, match=r"sa\.source is C\+\+ compiled"):
        WORKLOAD.validate_experiment(hill, {**hill.params, "SA": {"source": FORGING_MODEL}})
    WORKLOAD.validate_experiment(hill, {**hill.params, "SA": {"Cb1": 0.2}})  # coefficients stay a hypothesis
    task = _user_case(tmp_path)
    other = _user_case(tmp_path / "other").params["case_dir"]
    secret = tmp_path / "secret.csv"
    secret.write_text("quantity,x,y,z,value,tolerance\nUx,0,0,0,1,1\n")
    for change, refusal in (
        ({"U_REF": 1e4}, "u_ref sets what a gate judges against"),
        ({"u_ref": "1e4"}, "u_ref sets what a gate judges against"),
        ({"CASE_DIR": other}, "case_dir is given twice"),
        ({"Reference": str(secret)}, "reference names a file of this machine"),
    ):
        with pytest.raises(TaskError, match=refusal):
            WORKLOAD.validate_experiment(task, {**task.params, **change})
    WORKLOAD.validate_experiment(task, {**task.params, "End_Time": 0.1})  # any spelling of a free parameter


# -- the revise step: every policy's proposals pass through the graph's check -----------------------------------


class _Model:
    model = "scripted"

    def __init__(self, *params: dict[str, Any]) -> None:
        self.replies = list(params)
        self.seen: list[str] = []

    def structured(self, messages: list[Any], schema: type[LLMProposal]) -> LLMProposal:
        self.seen.append(messages[-1].content)
        params = self.replies[min(len(self.seen) - 1, len(self.replies) - 1)]
        return LLMProposal(action="run", params=params, rationale="only numerics changed, honestly")


def test_the_model_is_told_why_and_its_careful_rerun_is_run() -> None:
    task, revised = _task("cfd/cavity"), _planned("cfd/cavity")
    context = SimpleNamespace(task=task, workload=WORKLOAD, emit=lambda *args, **kwargs: None)
    model = _Model({**revised.params, "re": 400, "cells": 96}, {**revised.params, "cells": 96})
    policy = LLMRevisionPolicy(context, model, BuiltinRevisionPolicy(WORKLOAD))  # type: ignore[arg-type]
    proposal = policy.revise_one(JudgedExperiment(revised, "revise", []), [])
    assert proposal is not None and proposal.params == {**revised.params, "cells": 96}, proposal
    assert "re is the flow asked about and stays 100" in model.seen[1]


def test_the_graph_refuses_a_changed_question_from_any_policy() -> None:
    """A policy other than the LLM's (a plug-in, a search's fallback) is checked in the decide node alike."""
    task, revised = _task("cfd/poiseuille"), _planned("cfd/poiseuille")
    notes: list[str] = []
    events: list[str] = []
    orchestrator = Orchestrator.__new__(Orchestrator)
    orchestrator.context = SimpleNamespace(  # type: ignore[assignment]
        task=task, workload=WORKLOAD, emit=lambda kind, message, **data: events.append(message)
    )
    history = [JudgedExperiment(revised, "rerun", [])]
    easier = ExperimentSpec(
        key=f"{revised.key}-a2", task_id=task.id, params={**revised.params, "re": 500}, parent_key=revised.key
    )
    gentler = easier.model_copy(update={"key": f"{revised.key}-a3", "params": {**revised.params, "iterations": 4000}})
    orphan = gentler.model_copy(update={"key": "elsewhere-a2", "parent_key": "elsewhere"})  # checked against nothing
    kept = orchestrator._revisions_only([easier, gentler, orphan], history, notes)
    assert [spec.key for spec in kept] == [gentler.key]
    assert len(notes) == 2 and notes[0].startswith(f"{easier.key}: not run: not a rerun of {revised.key}")
    assert "re is the flow asked about and stays 100" in notes[0] and len(events) == 2
    assert notes[1] == "elsewhere-a2: not run: it revises elsewhere, which this run has not judged"


def test_the_schema_shown_to_a_proposer_says_what_a_revision_may_change() -> None:
    """Every parameter of every family carries its role; one without would be kept by every revision."""
    for kind, definition in case_definitions().items():
        assert unclassified(definition.params_model) == [], kind
    schema = WORKLOAD.param_schema(_task("cfd/periodic-hill"))
    assert SCHEMA_NOTE in schema["description"]
    assert schema["properties"]["sa"]["role"] == "physics"
    assert (schema["properties"]["iterations"]["role"], schema["properties"]["iterations"]["careful"]) == (
        "numerics",
        "more",
    )


# -- with the real solver ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_revision_at_an_easier_reynolds_number_is_not_run(home: Path, tmp_path: Path) -> None:
    """Got through before: Re 400 on 16 cells failed its gates; the model's revision ran Re 100 on 48 cells,
    which Ghia also tabulates, so the comparator scored it against Re 100 and accepted it, and the report
    answered "Re 400" with `re=400-a2`. Now the model is told why, and its next, honest proposal is run."""
    task = tmp_path / "re400.yaml"
    task.write_text(
        "extends: cfd/cavity\n"
        "goal: Reproduce Ghia's Re 400 centreline profiles to within the stated error.\n"
        "sweep: {re: [400]}\n"
        "params: {cells: 16, convective_times: 12}\n"
        "gate_options: {comparator: {rmse_max: 0.008}}\n"
        "budget: {experiments: 3, iterations: 2}\n"
    )
    easier = {"action": "run", "params": {"re": 100, "cells": 48, "convective_times": 12}, "rationale": "refine"}
    honest = {"action": "run", "params": {"re": 400, "cells": 24, "convective_times": 12}, "rationale": "refine"}
    rules = [
        Rule("Those parameters are invalid", [Reply(content=json.dumps(honest))]),
        Rule("Propose the next experiment", [Reply(content=json.dumps(easier))]),
    ]
    with ScriptedLLMServer(rules) as server:
        env = {"LABGATE_LLM_BASE_URL": server.url, "LABGATE_LLM_MODEL": "scripted"}
        result = agent("run", str(task), "--json", home=home, env=env, timeout=300)
        feedback = [message_text(request["body"]) for request in server.requests]
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    ran = {row.key: row.params for row in RunStore(home).experiments(summary["run_id"])}
    assert sorted(ran) == ["re=400", "re=400-a2"], ran
    assert all(float(params["re"]) == 400 for params in ran.values()), ran
    assert ran["re=400-a2"]["cells"] == 24
    assert any("re is the flow asked about and stays 400 (proposed 100" in text for text in feedback)
    report = Path(summary["report"]).read_text()
    assert "re=100" not in report.replace(" ", "")


def _hill_run(root: Path, model: str) -> tuple[TaskSpec, ExperimentSpec, ExperimentOutcome]:
    task = _task("cfd/periodic-hill")
    params = {"case": "periodic-hill", "model": model, "cells_x": 40, "cells_y": 24, "wall_cell": 0.02}
    spec = ExperimentSpec(key=f"hill-{model}", task_id=task.id, params={**params, "iterations": 60})
    outcome = WORKLOAD.run(task, spec, root / spec.key, lambda where: LocalSandbox(workdir=where))
    assert outcome.status == "completed", outcome.error
    return task, spec, outcome


@pytest.mark.slow
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_the_held_out_gate_compares_only_spalart_allmaras_with_the_calibrated_model(tmp_path: Path) -> None:
    """Got through before: a hill experiment on kOmegaSST has default (unused) SA coefficients, so the gate took
    it for the baseline itself: every held-out check compared the run with itself and passed ("gain +0.0 %"),
    and the flat plate ran the calibrated SA the experiment never used."""
    factory = lambda where: LocalSandbox(workdir=where)  # noqa: E731
    options = {"step": None, "plate": {"cells_x": 12, "cells_y": 12, "iterations": 30}}
    verdicts = {}
    for model in ("kOmegaSST", "SpalartAllmaras"):
        task, spec, outcome = _hill_run(tmp_path, model)
        context = GateContext(
            task=task,
            experiment=spec,
            directory=tmp_path / spec.key,
            outcome=outcome,
            options=options,
            sandbox_factory=factory,
            rerun=lambda extra, where, task=task: WORKLOAD.run(task, extra, where, factory),
            prior=[],
        )
        verdicts[model] = run_gate(get_gate("held-out"), context)
    assert verdicts["kOmegaSST"].decision == "reject"
    assert "runs kOmegaSST, which it cannot compare" in verdicts["kOmegaSST"].reasons[0]
    # The honest control: the calibrated model is its own baseline and runs the flat plate.
    assert verdicts["SpalartAllmaras"].decision == "accept", verdicts["SpalartAllmaras"].reasons
    assert any("flat plate" in reason for reason in verdicts["SpalartAllmaras"].reasons)
