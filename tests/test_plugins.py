"""Workloads, gates and proposers as plugins: the entry-point loader, and a fourth workload that plugs in.

`tests/plugins` holds `labgate_analytic` (a closed-form workload with its own gate and proposer)
and, beside it, the `*.dist-info` that registers it: with that folder on PYTHONPATH the workload
is installed, without it it is absent. `tests/plugins/broken` registers a workload whose module
does not exist.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError

from agents._experiments import run_driver
from runs import ExperimentSpec, RunStore, TaskSpec
from tests.conftest import agent
from tools import (
    WORKLOADS,
    Catalog,
    ExperimentOutcome,
    OutputFile,
    PluginError,
    SandboxFactory,
    TaskError,
    Workload,
    WorkloadsOnDemand,
    forget_plugins,
    installed_workloads,
    load_plugin,
    plugin_names,
    workload_class,
)
from tools.cfd import CfdWorkload
from tools.kernels import KernelsWorkload
from tools.proofs import ProofsWorkload
from verifiers import GateContext, get_gate, run_gate

PLUGINS = Path(__file__).parent / "plugins"
BROKEN = PLUGINS / "broken"
BUILT_IN = ["cfd", "kernels", "proofs"]


@pytest.fixture(autouse=True)
def _fresh_entry_points() -> Iterator[None]:
    """Entry points are cached per process: read them again around every test that changes sys.path."""
    forget_plugins()
    yield
    forget_plugins()


def _distribution(root: Path, name: str, entry_points: str) -> Path:
    """A minimal installed distribution (METADATA + entry_points.txt) under `root`, as pip would leave it."""
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    return root


# The loader (tools/_plugins.py)


def test_loader_finds_and_checks_a_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fake_plugin_mod.py").write_text("VALUE = 42\nOTHER = 'text'\n")
    _distribution(
        tmp_path, "fake-plugin", "[labgate.test]\nanswer = fake_plugin_mod:VALUE\nwrong = fake_plugin_mod:OTHER\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    forget_plugins()

    def integer(loaded: object) -> int:
        if not isinstance(loaded, int):
            raise TypeError(f"{loaded!r} is not an int")
        return loaded

    assert plugin_names("labgate.test") == ["answer", "wrong"]
    assert load_plugin("labgate.test", "answer", integer) == 42
    with pytest.raises(PluginError, match=r"fake-plugin: wrong = fake_plugin_mod:OTHER is not usable: 'text' is not"):
        load_plugin("labgate.test", "wrong", integer)
    with pytest.raises(PluginError, match=r"no labgate.test plugin named 'missing' is installed \(installed: answer"):
        load_plugin("labgate.test", "missing", integer)


def test_loader_names_the_distribution_of_a_plugin_that_cannot_be_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _distribution(tmp_path, "ghost-plugin", "[labgate.test]\nghost = no_such_module_here:Thing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    forget_plugins()
    with pytest.raises(PluginError) as caught:
        load_plugin("labgate.test", "ghost", lambda loaded: loaded)
    message = str(caught.value)
    assert "ghost-plugin: ghost = no_such_module_here:Thing cannot be loaded" in message
    assert "ModuleNotFoundError" in message


def test_loader_prefers_the_first_distribution_on_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for root, value in ((first, 1), (second, 2)):
        root.mkdir()
        (root / f"twin_{value}.py").write_text(f"VALUE = {value}\n")
        _distribution(root, f"twin-{value}", f"[labgate.test]\ntwin = twin_{value}:VALUE\n")
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    forget_plugins()
    assert load_plugin("labgate.test", "twin", lambda loaded: loaded) == 1


def test_loader_reads_the_entry_points_again_only_when_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert plugin_names("labgate.test") == []
    _distribution(tmp_path, "late-plugin", "[labgate.test]\nlate = json:dumps\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert plugin_names("labgate.test") == []  # cached: a running process sees what it started with
    forget_plugins()
    assert plugin_names("labgate.test") == ["late"]


# Workloads as plugins


def test_the_built_in_workloads_are_registered_as_plugins() -> None:
    assert plugin_names(WORKLOADS) == BUILT_IN
    found = installed_workloads()
    assert [workload.name for workload in found.workloads] == BUILT_IN
    assert found.problems == {}
    assert workload_class("cfd") is CfdWorkload


def test_a_workload_entry_point_must_be_a_workload_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _distribution(
        tmp_path,
        "misnamed-plugin",
        "[labgate.workloads]\nfluids = tools.cfd:CfdWorkload\nnumber = json:dumps\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    forget_plugins()
    with pytest.raises(PluginError, match=r"CfdWorkload.name is 'cfd', not the entry-point name 'fluids'"):
        workload_class("fluids")
    with pytest.raises(PluginError, match=r"is not a subclass of tools.Workload"):
        workload_class("number")
    found = installed_workloads()
    assert [workload.name for workload in found.workloads] == BUILT_IN  # the broken ones hide nothing
    assert sorted(found.problems) == ["fluids", "number"]
    assert "misnamed-plugin" in found.problems["fluids"]


def test_a_workload_is_loaded_when_first_asked_for_and_a_broken_one_is_named_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog the commands build loads a workload when one of its tasks is asked for: a broken one is
    named with its reason at that moment, and a listing loads every workload, reporting each broken one."""
    _distribution(tmp_path, "misnamed-plugin", "[labgate.workloads]\nfluids = tools.cfd:CfdWorkload\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    forget_plugins()
    workloads = WorkloadsOnDemand()
    catalog = Catalog(workloads, unavailable=workloads.problems)
    assert catalog.load("cfd/cavity").workload == "cfd" and workloads.problems == {}
    with pytest.raises(TaskError, match=r"workload 'fluids' is registered but unavailable: .*misnamed-plugin"):
        catalog.load("fluids/x")
    assert sorted(catalog.workloads) == BUILT_IN and len(catalog.workloads) == 3
    assert {task.workload for task in catalog.tasks().values()} == set(BUILT_IN)
    assert sorted(catalog.unavailable) == ["fluids"]


def test_running_a_task_of_one_workload_imports_no_other() -> None:
    """`agent run cfd/cavity` reads no kernel or proof code before its first solver (a fresh interpreter)."""
    script = (
        "import sys\n"
        "from api._settings import Settings, build_catalog\n"
        "catalog = build_catalog(Settings())\n"
        "task = catalog.load('cfd/cavity')\n"
        "catalog.workload_for(task).plan(task)\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'tools'"
        " and name.split('.')[1:2] in (['kernels'], ['proofs'])))\n"
        "print(sorted(catalog.workloads))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["[]", str(BUILT_IN)], result.stderr


def test_each_workload_reads_its_own_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LABGATE_COQC", "/opt/coq/bin/coqc")
    monkeypatch.setenv("LABGATE_OPENFOAM_BIN_DIR", str(tmp_path / "bin"))
    monkeypatch.setenv("LABGATE_OPENFOAM_PROJECT_DIR", str(tmp_path / "project"))
    workloads = {workload.name: workload for workload in installed_workloads().workloads}
    proofs, cfd = workloads["proofs"], workloads["cfd"]
    assert isinstance(proofs, ProofsWorkload) and proofs.coq.coqc == "/opt/coq/bin/coqc"
    assert isinstance(cfd, CfdWorkload)
    assert (cfd.openfoam.bin_dir, cfd.openfoam.project_dir) == (tmp_path / "bin", tmp_path / "project")
    monkeypatch.setenv("LABGATE_COQC", "  ")
    assert ProofsWorkload.configured().coq.coqc == "coqc"  # blank means the default, as for the gate


def test_each_workload_declares_its_image_and_artifact_kinds() -> None:
    task = TaskSpec(id="x/y", workload="cfd")
    assert [w.sandbox_image(task) for w in (CfdWorkload(), KernelsWorkload(), ProofsWorkload())] == [
        "openfoam",
        "kernels",
        "coq",
    ]
    assert dict(KernelsWorkload.artifact_kinds) == {"kernel": "c"}
    assert dict(ProofsWorkload.artifact_kinds) == {"proof": "coq"}
    assert "proof" not in CfdWorkload.declared_kinds() and {"log", "field", "image"} <= CfdWorkload.declared_kinds()


def test_an_artifact_kind_the_workload_did_not_declare_is_an_error() -> None:
    outcome = ExperimentOutcome(
        key="k",
        status="completed",
        files=[
            OutputFile(path="case/log.icoFoam", kind="log", role="solver-log"),
            OutputFile(path="proof.v", kind="proof", role="proof"),
        ],
    )
    refused = CfdWorkload().refuse_undeclared(outcome)
    assert refused.status == "error"
    assert "workload 'cfd' produced artifact kinds it does not declare: proof.v (proof)" in refused.error
    assert [item.path for item in refused.files] == ["case/log.icoFoam"]  # declared kinds are still stored
    assert ProofsWorkload().refuse_undeclared(outcome) is outcome


class _Sloppy(Workload):
    """A workload that records a file of a kind it never declared."""

    name = "sloppy"

    def tasks(self) -> list[TaskSpec]:
        return []

    def validate(self, task: TaskSpec) -> None:
        return None

    def plan(self, task: TaskSpec) -> list[ExperimentSpec]:
        return []

    def check_tools(self, task: TaskSpec) -> None:
        return None

    def tool_versions(self) -> dict[str, str]:
        return {}

    def run(
        self, task: TaskSpec, experiment: ExperimentSpec, directory: Path, sandbox_factory: SandboxFactory
    ) -> ExperimentOutcome:
        files = [
            OutputFile(path="out.bin", kind="blob", role="output"),
            OutputFile(path="run.log", kind="log", role="log"),
        ]
        return ExperimentOutcome(key=experiment.key, status="completed", files=files)


@dataclass
class _Execution:
    task: TaskSpec
    workload: Workload
    sandbox_factory: SandboxFactory = field(default=cast(SandboxFactory, None))
    llm: None = None

    def emit(self, kind: str, message: str, **data: Any) -> None:
        return None

    def should_stop(self) -> bool:
        return False

    def remaining_seconds(self) -> float:
        return 60.0


def test_an_experiment_recording_an_undeclared_kind_fails_with_the_reason(tmp_path: Path) -> None:
    task = TaskSpec(id="sloppy/t", workload="sloppy")
    spec = ExperimentSpec(key="k", task_id=task.id)
    outcome = run_driver(_Execution(task, _Sloppy()), spec, tmp_path)
    assert outcome.status == "error"
    assert "workload 'sloppy' produced artifact kinds it does not declare: out.bin (blob)" in outcome.error
    assert "_Sloppy.artifact_kinds" in outcome.error
    assert [item.path for item in outcome.files] == ["run.log"]


def test_workload_names_and_artifact_kinds_are_validated_strings() -> None:
    assert TaskSpec(id="fem/beam", workload="fem").workload == "fem"  # installed or not is the catalog's check
    for bad in ("CFD", "1cfd", "c fd", "x" * 33, ""):
        with pytest.raises(ValidationError, match="workload name"):
            TaskSpec(id="x/y", workload=bad)
    with pytest.raises(ValidationError, match="artifact kind"):
        OutputFile(path="a", kind="Not A Kind", role="r")


def test_the_catalog_names_the_installed_workloads() -> None:
    catalog = Catalog([CfdWorkload()], unavailable={"broken": "it cannot be imported"})
    with pytest.raises(TaskError, match=r"workload 'fem' is not installed \(installed workloads: cfd\)"):
        catalog.workload_for(TaskSpec(id="fem/beam", workload="fem"))
    with pytest.raises(TaskError, match=r"unknown task 'fem/beam': workload 'fem' is not installed"):
        catalog.get("fem/beam")
    with pytest.raises(TaskError, match=r"workload 'broken' is registered but unavailable: it cannot be imported"):
        catalog.load("broken/x")
    with pytest.raises(TaskError, match=r"unknown task 'cfd/nope'; known cfd tasks: cfd/"):
        catalog.get("cfd/nope")


# The fourth workload, in process


def test_the_analytic_gate_accepts_the_closed_form_and_refuses_a_tampered_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    forget_plugins()
    task = TaskSpec(id="analytic/geometric", workload="analytic", params={"problem": "geometric", "ratio": 0.5})
    spec = ExperimentSpec(key="k", task_id=task.id, params={"problem": "geometric", "ratio": 0.5, "terms": 10})
    outcome = ExperimentOutcome(key="k", status="completed")
    gate = get_gate("analytic-closed-form", {"rel_tol": 1e-9})

    def judge() -> tuple[str, list[str]]:
        result = run_gate(gate, GateContext(task=task, experiment=spec, directory=tmp_path, outcome=outcome))
        return result.decision, result.reasons

    def write(value: object) -> None:
        (tmp_path / "result.json").write_text(json.dumps({"problem": "geometric", "value": value}))

    write(sum(0.5**k for k in range(10)))
    assert judge()[0] == "accept"
    write(2.0)  # the infinite sum, not the partial one asked for
    decision, reasons = judge()
    assert decision == "reject" and "from the closed form 1.998046875" in reasons[0]
    write("1.998046875")
    assert judge()[0] == "reject"
    (tmp_path / "elsewhere.json").write_text(json.dumps({"value": 1.998046875}))
    (tmp_path / "result.json").unlink()
    (tmp_path / "result.json").symlink_to(tmp_path / "elsewhere.json")  # a link is not the tool's result
    decision, reasons = judge()
    assert decision == "reject" and "not a readable result" in reasons[0]


# The fourth workload through the command line


def _with(*paths: Path) -> dict[str, str]:
    return {"PYTHONPATH": ":".join(str(path) for path in paths)}


def test_agent_tasks_lists_a_plugged_in_workload(home: Path) -> None:
    result = agent("tasks", "--json", home=home, env=_with(PLUGINS))
    assert result.returncode == 0, result.stderr
    workloads = {task["workload"] for task in json.loads(result.stdout)}
    assert workloads == {"analytic", *BUILT_IN}
    ids = {task["id"] for task in json.loads(result.stdout)}
    assert {"analytic/geometric", "analytic/quadrature"} <= ids


def test_agent_run_accepts_a_correct_analytic_result_end_to_end(home: Path) -> None:
    result = agent("run", "analytic/geometric", "--json", home=home, env=_with(PLUGINS), timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "finished" and summary["accepted"] and not summary["rejected"], summary
    closed = [v for v in summary["verdicts"] if v["gate"] == "analytic-closed-form"]
    assert closed and closed[0]["decision"] == "accept" and closed[0]["evidence"]
    assert closed[0]["metrics"]["relative_error"] < 1e-12
    report = Path(summary["report"]).read_text()
    assert '```json\n{"problem": "geometric", "value": ' in report  # the workload's own kind, shown as text
    store = RunStore(home)
    try:
        (experiment,) = store.experiments(summary["run_id"])
        assert experiment.outcome["info"]["proposer"] == "labgate-analytic"  # its proposer plugin ran it
    finally:
        store.engine.dispose()


def test_agent_run_rejects_a_wrong_analytic_result(home: Path) -> None:
    # Four midpoint intervals integrate x**2 to 0.328125, not 1/3: the tool ran, the gate refuses the number.
    result = agent(
        "run", "analytic/quadrature", "--param", "intervals=4", "--json", home=home, env=_with(PLUGINS), timeout=300
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rejected"] and not summary["accepted"], summary
    closed = next(v for v in summary["verdicts"] if v["gate"] == "analytic-closed-form")
    assert closed["decision"] == "reject" and "0.328125" in closed["reasons"][0]


def test_without_the_plugin_its_workload_is_absent(home: Path) -> None:
    listed = agent("tasks", "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    assert {task["workload"] for task in json.loads(listed.stdout)} == set(BUILT_IN)
    result = agent("run", "analytic/geometric", home=home)
    assert result.returncode == 2
    assert "unknown task 'analytic/geometric': workload 'analytic' is not installed" in result.stderr
    assert "installed workloads: cfd, kernels, proofs" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_plugin_is_named_and_hides_nothing(home: Path) -> None:
    listed = agent("tasks", "--json", home=home, env=_with(BROKEN, PLUGINS))
    assert listed.returncode == 0, listed.stderr
    assert {task["workload"] for task in json.loads(listed.stdout)} == {"analytic", *BUILT_IN}
    assert "workload 'broken' left out" in listed.stderr and "labgate-broken" in listed.stderr
    result = agent("run", "broken/anything", home=home, env=_with(BROKEN))
    assert result.returncode == 2
    assert "workload 'broken' is registered but unavailable" in result.stderr
    assert "labgate-broken: broken = labgate_broken_missing:BrokenWorkload cannot be loaded" in result.stderr
    assert "Traceback" not in result.stderr
