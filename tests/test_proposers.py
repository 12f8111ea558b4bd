"""Proposers as plugins: found by workload name in `labgate.proposers`, run against `agents.Execution` alone."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

import tools._plugins
from agents import BuiltinRevisionPolicy, Proposer, RunContext, SearchRevisionPolicy, policy_for, proposer_for
from agents._experiments import RunAbortedError, run_driver
from agents.cfd_search import CfdSearchProposer
from agents.kernel_search import KernelSearchProposer
from agents.proof_search import ProofSearchProposer
from runs import ExperimentSpec, RunStore, TaskSpec
from sandboxes import Sandbox
from tools import PROPOSERS, ExperimentOutcome, PluginError, ToolUnavailableError, forget_plugins
from tools.cfd import CfdWorkload


class EchoProposer(Proposer):
    """Runs nothing: reports what the execution offered, through the execution's own channels."""

    def run_experiment(self, execution: Any, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
        execution.emit("search", f"{spec.key}: proposing", key=spec.key)
        if spec.params.get("fail") == "tool":
            raise ToolUnavailableError("the echo tool is not installed")
        if spec.params.get("fail") == "bug":
            raise ValueError("a bug in the proposer")
        (directory / "echo.txt").write_text(spec.key)
        return ExperimentOutcome(
            key=spec.key,
            status="completed",
            metrics={"seconds left": execution.remaining_seconds(), "stop": float(execution.should_stop())},
        )


class NotAProposer:
    pass


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Proposer entry points added for this test only (name -> 'module:Class'), beside the installed ones."""
    extra: dict[str, str] = {}
    installed = tools._plugins.entry_points

    def entry_points(*, group: str) -> list[EntryPoint]:
        found = list(installed(group=group))
        if group == PROPOSERS:
            found = [EntryPoint(name, value, group) for name, value in extra.items()] + found
        return found

    monkeypatch.setattr(tools._plugins, "entry_points", entry_points)
    forget_plugins()
    yield extra
    forget_plugins()


@dataclass
class _Workload:
    """The little of a workload that executing an experiment reads besides what its proposer does."""

    name: str

    def refuse_undeclared(self, outcome: ExperimentOutcome) -> ExperimentOutcome:
        return outcome


@dataclass
class RemoteLike:
    """An Execution that is not a RunContext (as on a worker node): no store, its own clock."""

    task: TaskSpec
    workload: Any
    llm: Any = None
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def sandbox_factory(self, workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        raise AssertionError("the echo proposer runs nothing")

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.events.append((kind, message, data))

    def should_stop(self) -> bool:
        return False

    def remaining_seconds(self) -> float:
        return 42.0


def _task(workload: str = "echo", **params: Any) -> TaskSpec:
    return TaskSpec(id=f"{workload}/t", workload=workload, params=params, gates=[])


def test_the_shipped_workloads_register_their_proposers() -> None:
    assert type(proposer_for("cfd")) is CfdSearchProposer
    assert type(proposer_for("kernels")) is KernelSearchProposer
    assert type(proposer_for("proofs")) is ProofSearchProposer


def test_a_workload_without_a_proposer_gets_the_default(plugins: dict[str, str], home: Path) -> None:
    assert type(proposer_for("no-such-workload")) is Proposer
    store = RunStore(home)
    task = _task("cfd", case="cavity")
    run = store.create_run(task)
    context = RunContext(store=store, run_id=run.id, task=task, workload=_Workload("plain"), sandbox_factory=None)  # type: ignore[arg-type]
    assert Proposer().revision_policy(context) is None
    assert type(policy_for(context)) is BuiltinRevisionPolicy


def test_a_registered_proposer_runs_the_experiment_against_any_execution(
    plugins: dict[str, str], tmp_path: Path
) -> None:
    plugins["echo"] = f"{__name__}:EchoProposer"
    execution = RemoteLike(_task(), _Workload("echo"))
    outcome = run_driver(execution, ExperimentSpec(key="e1", task_id="echo/t"), tmp_path)
    assert outcome.status == "completed"
    assert outcome.metrics == {"seconds left": 42.0, "stop": 0.0}
    assert (tmp_path / "echo.txt").read_text() == "e1"
    assert execution.events == [("search", "e1: proposing", {"key": "e1"})]


def test_a_proposer_s_failure_is_the_experiment_s_but_a_missing_tool_aborts_the_run(
    plugins: dict[str, str], tmp_path: Path
) -> None:
    plugins["echo"] = f"{__name__}:EchoProposer"
    execution = RemoteLike(_task(), _Workload("echo"))
    outcome = run_driver(execution, ExperimentSpec(key="e2", task_id="echo/t", params={"fail": "bug"}), tmp_path)
    assert (outcome.status, outcome.error) == ("error", "ValueError: a bug in the proposer")
    with pytest.raises(RunAbortedError, match="the echo tool is not installed"):
        run_driver(execution, ExperimentSpec(key="e3", task_id="echo/t", params={"fail": "tool"}), tmp_path)


def test_a_plugin_that_is_not_a_proposer_is_refused_by_name(plugins: dict[str, str], tmp_path: Path) -> None:
    plugins["odd"] = f"{__name__}:NotAProposer"
    plugins["gone"] = "tests.no_such_module:Proposer"
    refused = r"odd = tests\.test_proposers:NotAProposer is not usable: .*agents\.Proposer"
    with pytest.raises(PluginError, match=refused):
        proposer_for("odd")
    with pytest.raises(PluginError, match=r"gone = tests\.no_such_module:Proposer cannot be loaded"):
        proposer_for("gone")
    with pytest.raises(RunAbortedError, match="cannot be loaded"):
        run_driver(RemoteLike(_task(), _Workload("gone")), ExperimentSpec(key="e4", task_id="echo/t"), tmp_path)


def test_the_cfd_proposer_searches_only_tasks_that_declare_a_search(home: Path) -> None:
    store = RunStore(home)
    workload = CfdWorkload()
    tasks = {task.id: task for task in workload.tasks()}
    for task_id, expected in (("cfd/periodic-hill", SearchRevisionPolicy), ("cfd/cavity", BuiltinRevisionPolicy)):
        task = tasks[task_id]
        run = store.create_run(task)
        context = RunContext(store=store, run_id=run.id, task=task, workload=workload, sandbox_factory=None)  # type: ignore[arg-type]
        assert type(policy_for(context)) is expected, task_id
