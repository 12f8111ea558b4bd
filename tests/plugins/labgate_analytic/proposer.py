"""The analytic workload's proposer: the default execution, marked so a test can see the plugin ran it."""

from __future__ import annotations

from pathlib import Path

from agents import Execution, Proposer
from runs import ExperimentSpec
from tools import ExperimentOutcome


class AnalyticProposer(Proposer):
    """Runs the experiment as the default proposer does and records that this plugin ran it."""

    def run_experiment(self, execution: Execution, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
        outcome = super().run_experiment(execution, spec, directory)
        outcome.info["proposer"] = "labgate-analytic"
        return outcome
