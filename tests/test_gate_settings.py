"""Gate settings cannot be loosened quietly: checked at submission, and every deviation shown.

A misspelled gate, an unknown option or an out-of-bounds value is refused at the front door (CLI
exit 2, API 422) before anything runs. A task that removes a gate or changes a threshold of its
catalog task runs, but its run records each difference and never passes for the catalog task's result:
the CLI, the API, the dashboard and the report all say "custom gates".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ConfigDict

from api._settings import Settings, build_catalog
from runs import ExperimentSpec, RunStore, TaskSpec
from tests.api_server import served_client
from tests.conftest import agent
from tools import Catalog, ExperimentOutcome, TaskError
from verifiers import GateContext, GateOptionsError, gate_class, gate_names, gate_options, get_gate, run_gate

CAVITY_SMALL = {"re": 100, "cells": 16, "convective_times": 3}

REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"gates": ["solver-log", "deliverable", "comparator"]}, "unknown gate 'deliverable'"),
    ({"gate_options": {"comparitor": {"rmse_max": 0.5}}}, "unknown gate 'comparitor'"),
    ({"gate_options": {"comparator": {"rmse_maxx": 0.5}}}, "gate 'comparator': rmse_maxx: unknown field"),
    ({"gate_options": {"comparator": {"rmse_max": -0.5}}}, "gate 'comparator': rmse_max: Input should be greater"),
    ({"gate_options": {"solver-log": {"residual_drop": 2.0}}}, "gate 'solver-log': residual_drop: Input should be"),
    ({"gates": ["deliverables", "deliverables"]}, "gates listed more than once: deliverables"),
]
REFUSED_IDS = [
    "misspelled-gate",
    "options-for-unknown-gate",
    "unknown-option",
    "negative-limit",
    "drop-above-1",
    "twice",
]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return build_catalog(Settings(home=tmp_path_factory.mktemp("home")))


def _cavity(catalog: Catalog, **fields: Any) -> TaskSpec:
    task = catalog.from_mapping({"extends": "cfd/cavity", **fields})
    catalog.validate(task)
    return catalog.with_deviations(task)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# --- each gate declares typed options -------------------------------------------------------------


def test_every_gate_declares_options_with_defaults_that_refuse_unknown_keys() -> None:
    assert len(gate_names()) >= 10
    for name in gate_names():
        model = gate_class(name).Options
        assert model.model_config.get("extra") == "forbid", name
        model.model_validate({})  # every option has a default
        with pytest.raises(GateOptionsError, match=rf"gate '{name}': not_an_option: unknown field"):
            gate_options(name, {"not_an_option": 1})


def test_the_catalog_tasks_own_settings_are_valid_and_no_deviation(catalog: Catalog) -> None:
    tasks = [task for task in catalog.tasks().values() if task.gate_options or task.workload != "proofs"]
    tasks.append(catalog.get("proofs/minif2f-valid"))
    for task in tasks:
        catalog.validate(task)
        assert catalog.with_deviations(task).gate_deviations == [], task.id
    assert gate_options("comparator", {"rmse_max": 0.02}) == gate_options("comparator", {})  # today's defaults


def test_run_gate_hands_the_gate_typed_options_and_rejects_invalid_ones(tmp_path: Path) -> None:
    context = GateContext(
        task=TaskSpec(id="cfd/x", workload="cfd"),
        experiment=ExperimentSpec(key="k", task_id="cfd/x"),
        directory=tmp_path,
        outcome=ExperimentOutcome(key="k", status="completed"),
        options={"required": ["velocity-figure"]},
    )
    verdict = run_gate(get_gate("deliverables"), context)
    assert verdict.decision == "reject"
    assert verdict.reasons == ["required deliverable 'velocity-figure' was not produced"]
    assert type(context.options).__name__ == "DeliverablesOptions"
    context.options = {"required": ["velocity-figure"], "requierd": []}
    refused = run_gate(get_gate("deliverables"), context)
    assert refused.decision == "reject" and refused.reasons == ["invalid gate options: requierd: unknown field"]


# --- refused at submission ------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "message"), REFUSED, ids=REFUSED_IDS)
def test_the_catalog_refuses_bad_gate_settings(catalog: Catalog, change: dict[str, Any], message: str) -> None:
    with pytest.raises(TaskError, match="invalid gate settings") as refused:
        _cavity(catalog, **change)
    assert message in str(refused.value)


@pytest.mark.parametrize(("change", "message"), REFUSED[:4], ids=REFUSED_IDS[:4])
def test_cli_refuses_bad_gate_settings_with_exit_2_before_anything_runs(
    home: Path, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    task = tmp_path / "task.json"
    task.write_text(json.dumps({"extends": "cfd/cavity", "params": CAVITY_SMALL, **change}))
    result = agent("run", str(task), "--json", home=home)
    assert result.returncode == 2
    assert message in _one_line(result.stderr)
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed" and message in summary["reason"]
    store = RunStore(home)
    assert store.experiments(summary["run_id"]) == [] and store.steps(summary["run_id"]) == []
    assert not list(home.rglob("experiments")) and not list(home.rglob("controlDict"))  # no case was even built


@pytest.fixture
def server(home: Path) -> Iterator[httpx.Client]:
    settings = Settings(home=home, run_workers=0)
    with served_client(settings) as client:
        yield client


def test_api_refuses_bad_gate_settings_with_422_and_queues_nothing(server: httpx.Client, home: Path) -> None:
    for change, message in REFUSED:
        response = server.post("/runs", json={"spec": {"extends": "cfd/cavity", "params": CAVITY_SMALL, **change}})
        assert response.status_code == 422, response.text
        assert message in response.json()["message"]
    assert server.get("/runs").json()["total"] == 0
    assert not list(home.rglob("experiments"))


# --- deviations are recorded ----------------------------------------------------------------------


def test_deviations_name_every_difference_loosened_or_tightened(catalog: Catalog) -> None:
    loosened = _cavity(
        catalog, gates=["deliverables", "comparator"], gate_options={"comparator": {"rmse_max": 0.5}}
    ).gate_deviations
    assert [d.describe() for d in loosened] == ["solver-log removed", "comparator.rmse_max = 0.5 (catalog 0.02)"]
    tightened = _cavity(catalog, gate_options={"solver-log": {"courant_max": 1.0}}).gate_deviations
    assert [(d.gate, d.change, d.option, d.catalog, d.submitted) for d in tightened] == [
        ("solver-log", "option", "courant_max", 5.0, 1.0)
    ]
    added = _cavity(catalog, gates=["solver-log", "deliverables", "comparator", "vision"]).gate_deviations
    assert [d.describe() for d in added] == ["vision added"]
    reordered = _cavity(catalog, gates=["comparator", "solver-log", "deliverables"]).gate_deviations
    assert [d.change for d in reordered] == ["reordered"]
    # Stating a default explicitly changes nothing; a task named after the catalog task is compared too.
    assert _cavity(catalog, gate_options={"solver-log": {"courant_max": 5.0}}).gate_deviations == []
    named = catalog.from_mapping({**catalog.get("cfd/cavity").model_dump(), "gates": ["deliverables"]})
    assert [d.describe() for d in catalog.with_deviations(named).gate_deviations][:1] == ["solver-log removed"]
    assert catalog.with_deviations(named).label == "cfd/cavity (custom gates)"
    # A spec that takes a catalog task's id is compared with that task, whatever it extends.
    posing = catalog.from_mapping({"extends": "cfd/cavity", "id": "cfd/poiseuille"})
    assert "physical-range removed" in [d.describe() for d in catalog.with_deviations(posing).gate_deviations]
    renamed = _cavity(catalog, id="cfd/my-cavity", gates=["deliverables"])
    assert renamed.label == "cfd/my-cavity (custom gates)" and len(renamed.gate_deviations) == 2
    # An id of one's own about the cavity is judged against the cavity's gates: it could pass for its result.
    own = TaskSpec(id="cfd/my-own", workload="cfd", params={"case": "cavity"}, gates=["deliverables"])
    removed = [d.describe() for d in catalog.with_deviations(own).gate_deviations]
    assert removed[:2] == ["solver-log removed", "comparator removed"]
    unrelated = TaskSpec(id="cfd/my-own", workload="cfd", params={}, gates=["deliverables"])
    assert catalog.with_deviations(unrelated).gate_deviations == []  # no catalog task to pass for


def test_a_deviation_written_into_the_task_file_is_replaced(catalog: Catalog) -> None:
    """A file cannot declare itself free of deviations: the catalog computes them at submission."""
    task = _cavity(catalog, gates=["deliverables"], gate_deviations=[])
    assert [d.describe() for d in task.gate_deviations] == ["solver-log removed", "comparator removed"]


def test_the_options_model_is_strict_about_the_shape_of_values() -> None:
    with pytest.raises(GateOptionsError, match="required"):
        gate_options("deliverables", {"required": "velocity-figure"})
    with pytest.raises(GateOptionsError, match="factor"):
        gate_options("mesh-independence", {"factor": 1.0})  # a 'refinement' that does not refine
    with pytest.raises(GateOptionsError, match="plate"):
        gate_options("held-out", {"plate": {"re_ll": 1e6}})
    for limit in (float("inf"), float("nan")):
        with pytest.raises(GateOptionsError, match="rmse_max"):
            gate_options("comparator", {"rmse_max": limit})  # a limit that accepts anything
    assert gate_class("deliverables").Options.model_config == ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False
    )


# --- end to end: a loosened run and an unmodified one ---------------------------------------------


def _views(home: Path, run_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], str, str]:
    """The run as `agent show --json`, `agent runs --json`, GET /runs/{id}, its page and the runs page show it."""
    show = agent("show", run_id, "--json", home=home)
    assert show.returncode == 0, show.stderr
    listed = {row["run_id"]: row for row in json.loads(agent("runs", "--json", home=home).stdout)}
    settings = Settings(home=home, run_workers=0)
    with served_client(settings) as client:
        api = client.get(f"/runs/{run_id}").json()
        api_row = next(row for row in client.get("/runs").json()["items"] if row["run_id"] == run_id)
        page = client.get(f"/ui/runs/{run_id}").text
        listing = client.get("/").text
    assert api_row["task"] == listed[run_id]["task"]
    assert api_row["gate_deviations"] == listed[run_id]["gate_deviations"]
    return json.loads(show.stdout), listed[run_id], api, page, listing


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_loosened_run_says_so_everywhere_and_an_unmodified_one_does_not(home: Path, tmp_path: Path) -> None:
    task = tmp_path / "loose.yaml"
    task.write_text(
        "extends: cfd/cavity\n"
        "sweep: {re: [100]}\n"
        "params: {cells: 16, convective_times: 3}\n"
        "gates: [deliverables, comparator]\n"
        "gate_options: {comparator: {rmse_max: 0.5}}\n"
        "budget: {experiments: 1}\n"
    )
    loose = agent("run", str(task), "--json", home=home)
    assert loose.returncode == 0, loose.stderr
    summary = json.loads(loose.stdout)
    assert summary["status"] == "finished"
    expected = [
        {"gate": "solver-log", "change": "removed", "option": None, "catalog": None, "submitted": None},
        {"gate": "comparator", "change": "option", "option": "rmse_max", "catalog": 0.02, "submitted": 0.5},
    ]
    assert summary["task"] == "cfd/cavity (custom gates)" and summary["gate_deviations"] == expected
    show, row, api, page, listing = _views(home, summary["run_id"])
    for record in (show, row, api):
        assert record["task"] == "cfd/cavity (custom gates)" and record["gate_deviations"] == expected
    assert api["spec"]["extends"] == "cfd/cavity" and api["spec"]["gate_deviations"] == expected
    assert 'id="gate-deviations"' in page and "comparator.rmse_max = 0.5 (catalog 0.02)" in page
    assert "cfd/cavity (custom gates)" in page and "cfd/cavity (custom gates)" in listing
    report = Path(show["report"]).read_text()
    title, _, custom = report.splitlines()[:3]
    assert title.endswith("(custom gates)")
    assert custom.startswith(r"**custom gates: solver-log removed; comparator.rmse\_max = 0.5 (catalog 0.02).**")

    plain = agent(
        "run",
        "cfd/cavity",
        *[f"--param={k}={v}" for k, v in CAVITY_SMALL.items()],
        "--budget",
        "1",
        "--json",
        home=home,
    )
    assert plain.returncode == 0, plain.stderr
    unmodified = json.loads(plain.stdout)
    assert unmodified["task"] == "cfd/cavity" and unmodified["gate_deviations"] == []
    show, row, api, page, _ = _views(home, unmodified["run_id"])
    assert show["task"] == row["task"] == api["task"] == "cfd/cavity"
    assert show["gate_deviations"] == row["gate_deviations"] == api["gate_deviations"] == []
    assert 'id="gate-deviations"' not in page and "custom gates" not in page
    assert "custom gates" not in Path(show["report"]).read_text()


def test_a_task_of_ones_own_about_a_catalog_subject_is_judged_against_that_tasks_gates(catalog: Catalog) -> None:
    """An id of one's own with the cavity's title and a loosened threshold must read as custom gates."""
    cavity = catalog.get("cfd/cavity")
    own = cavity.model_copy(
        update={"id": "cfd/my-cavity", "gate_options": {**cavity.gate_options, "comparator": {"rmse_max": 0.5}}}
    )
    recorded = catalog.with_deviations(own)
    assert [(d.gate, d.option) for d in recorded.gate_deviations] == [("comparator", "rmse_max")]
    assert recorded.label.endswith("(custom gates)")
    other_case = own.model_copy(update={"params": {**own.params, "case": "poiseuille"}, "gate_options": {}})
    assert catalog.reference(other_case) is None or catalog.reference(other_case).id != "cfd/cavity"


def test_a_gate_option_given_as_json_on_the_command_line_is_read_as_json(catalog: Catalog) -> None:
    from api.cli._check import set_gate_options

    task = catalog.load("cfd/case")
    set_up = set_gate_options(task, ['mesh-independence.tolerances={"field": 0.02}'])
    assert set_up.gate_options["mesh-independence"]["tolerances"] == {"field": 0.02}
    catalog.validate(set_up)
    with pytest.raises(TaskError, match="not valid JSON"):
        set_gate_options(task, ['mesh-independence.tolerances={"field": 0.02'])
    plain = set_gate_options(task, ["solver-log.residual_drop=0.01"])
    assert plain.gate_options["solver-log"]["residual_drop"] == 0.01
