"""Proposers: how a workload's experiments are executed and what is tried once the gates have judged them.

A workload whose experiment is one tool run (a CFD case) needs nothing here: the default `Proposer`
lets the workload run it and leaves revision to the built-in policy (or the LLM's). A workload whose
experiment is a search (propose, evaluate, correct, repeat: kernels, proofs) or whose tasks declare
a search over experiments (CFD design searches) provides a subclass, registered under the workload's
name in the `labgate.proposers` entry-point group:

    [project.entry-points."labgate.proposers"]
    kernels = "agents.kernel_search:KernelSearchProposer"
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agents._context import RunContext
from agents._execution import Execution
from agents._policy import RevisionPolicy, default_policy
from runs import ExperimentSpec, TaskSpec
from tools import PROPOSERS, ExperimentOutcome, load_plugin, plugin_names

if TYPE_CHECKING:
    from runs import RunStore


class Proposer:
    """The default for every workload; subclasses override one or both methods."""

    def run_experiment(self, execution: Execution, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
        """Execute one experiment in `directory` and return what the gates will judge.

        Runs on the head or on a worker node (see `agents.Execution`); an exception becomes the
        experiment's error outcome, except a missing tool or sandbox, which aborts the run.
        """
        return execution.workload.run(execution.task, spec, directory, execution.sandbox_factory)

    def resolve(self, task: TaskSpec, store: RunStore) -> TaskSpec:
        """`task` with what only the run store can supply filled in, before the run is created.

        Runs on the head at submission (a kernel search resuming an earlier run reads that run's
        candidates here, since a worker node has no store). The default changes nothing.

        Raises:
            TaskError: the task refers to something the store does not hold (bad input, refused at once).
        """
        return task

    def judged(self, context: RunContext, spec: ExperimentSpec, decision: str) -> None:
        """Called on the head once the gates decided an experiment (a proof search learns from accepted proofs)."""
        return None

    def revision_policy(self, context: RunContext) -> RevisionPolicy | None:
        """The policy proposing the next experiments after each round of gates; None for the default one."""
        return None


def _instantiate(loaded: object) -> Proposer:
    if isinstance(loaded, type) and issubclass(loaded, Proposer):
        return loaded()
    raise TypeError(f"{loaded!r} is not a subclass of agents.Proposer")


def proposer_for(workload: str) -> Proposer:
    """The proposer registered for `workload`, or the default one when none is.

    Raises:
        PluginError: a proposer is registered but cannot be loaded or is not an `agents.Proposer`.
    """
    if workload not in plugin_names(PROPOSERS):
        return Proposer()
    return load_plugin(PROPOSERS, workload, _instantiate)


def policy_for(context: RunContext) -> RevisionPolicy:
    """The run's revision policy: its workload proposer's, else the built-in one (or the LLM's)."""
    return proposer_for(context.workload.name).revision_policy(context) or default_policy(context)
