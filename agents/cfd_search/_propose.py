"""The search as the orchestrator's revise step: one candidate, one experiment.

A task with `params.search` gets this policy (through `CfdSearchProposer`, the `cfd` workload's
proposer): after every round of gates it proposes the next candidates from what the objective gate
said about the earlier ones, and leaves numerical reruns to the default policy. Tasks without a
search get the default policy unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from agents._context import RunContext
from agents._execution import Execution
from agents._policy import JudgedExperiment, RevisionPolicy, default_policy
from agents._proposer import Proposer
from agents.cfd_search._cmaes import CmaesProposer
from agents.cfd_search._history import CANDIDATE_PREFIX, Observation, search_history
from agents.cfd_search._llm import LlmHypothesisProposer
from agents.cfd_search._model_llm import LlmModelProposer, ModelProposal
from agents.cfd_search._progress import solver_log_of, watch_solver
from runs import ExperimentSpec
from tools import ExperimentOutcome, SearchSpace
from tools.cfd import SolverProgress
from tools.cfd.models import describe_form

FORM_PARAMETERS = ("Cproduction", "Cdestruction", "Cfv1")
"""Parameters that mark a search over the model-form family (tools.cfd.models): C++ may then change too."""


class SearchProposer(Protocol):
    name: str

    def propose(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[tuple[dict[str, float], str]]: ...


class SearchRevisionPolicy:
    def __init__(self, context: RunContext, space: SearchSpace, fallback: RevisionPolicy) -> None:
        self.context = context
        self.space = space
        self.fallback = fallback
        self.form = any(p.name in FORM_PARAMETERS for p in space.parameters)
        self.proposer: SearchProposer
        if context.llm is None:
            self.proposer = CmaesProposer()
        elif self.form:
            self.proposer = LlmModelProposer(context.llm, context.task.goal)
        else:
            self.proposer = LlmHypothesisProposer(context.llm, context.task.goal)

    def revise(self, batch: list[JudgedExperiment], history: list[JudgedExperiment]) -> list[ExperimentSpec]:
        reruns = self.fallback.revise([item for item in batch if item.decision == "rerun"], history)
        return reruns + self.candidates(history)

    def candidates(self, history: list[JudgedExperiment]) -> list[ExperimentSpec]:
        space = self.space
        observations, baseline = search_history(history, space)
        left = min(space.runs - len(observations), space.population)
        if left <= 0:
            return []
        base = {k: v for k, v in self.context.task.params.items() if k != "search"}
        specs = []
        for offset, proposal in enumerate(self._proposals(observations, left, baseline)):
            params = space.candidate_params(base, proposal.values)
            if proposal.source is not None:
                params[space.key] = {**params[space.key], "source": proposal.source}
            specs.append(
                ExperimentSpec(
                    key=f"{CANDIDATE_PREFIX}{len(observations) + offset + 1:03d}",
                    task_id=self.context.task.id,
                    params=params,
                    rationale=proposal.rationale,
                )
            )
        return specs

    def _proposals(self, observations: list[Observation], count: int, baseline: float | None) -> list[ModelProposal]:
        """The next candidates; a model-form search names the correction each one stands for."""
        if isinstance(self.proposer, LlmModelProposer):
            return self.proposer.propose_models(self.space, observations, count, baseline)
        proposals = self.proposer.propose(self.space, observations, count, baseline)
        if self.form:
            return [ModelProposal(values, f"{why} -> {describe_form(values)}", None) for values, why in proposals]
        return [ModelProposal(values, why, None) for values, why in proposals]


class CfdSearchProposer(Proposer):
    """The `cfd` workload's proposer (entry point `labgate.proposers`).

    Each experiment is one solver run, watched while it runs (a `progress` event at most every
    `PROGRESS_SECONDS` with the simulated time, time step and residuals); a task that declares a search
    gets the search as its revision policy, any other task the default policy.
    """

    def run_experiment(self, execution: Execution, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
        log = solver_log_of(execution.workload, spec)
        if log is None:
            return super().run_experiment(execution, spec, directory)

        def report(progress: SolverProgress) -> None:
            execution.emit(
                "progress",
                f"{spec.key}: {progress.summary()}",
                key=spec.key,
                solver_log=log,
                summary=progress.summary(),
                **progress.data(),
            )

        with watch_solver(directory / "case", log, report):
            return super().run_experiment(execution, spec, directory)

    def revision_policy(self, context: RunContext) -> RevisionPolicy | None:
        space = context.workload.search_space(context.task)
        return None if space is None else SearchRevisionPolicy(context, space, default_policy(context))
