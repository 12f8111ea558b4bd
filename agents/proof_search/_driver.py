"""The `proofs` workload's proposer: one experiment is one correction loop for one problem.

It builds the trusted problem from the task, runs the search with the run's model (or the
built-in proposer), and writes what the gate will judge: `proof.v` (the proof found, or the last
attempt) and `search-log.jsonl` (every prover run and model call; each check keeps the draft it
checked, and a check failing at a step the goal that step faced, for the run page). It reports the search's own
view in `info` and `metrics`, which the gate ignores: the gate re-checks `proof.v` itself.
"""

from __future__ import annotations

import json
from pathlib import Path

from agents._execution import Execution
from agents._proposer import Proposer
from agents.proof_search._conjecture import ConjectureCorrector
from agents.proof_search._proposer import SKELETONS, BuiltinProposer
from agents.proof_search._search import ProofSearch, SearchBudget
from runs import ExperimentSpec
from tools import ExperimentOutcome
from tools.proofs import (
    PROOF_FILE,
    SEARCH_LOG,
    ProofsWorkload,
    parse_params,
    proof_files,
    resolve_problem,
)


def budget_from(params: dict[str, object], task_id: str) -> SearchBudget:
    parsed = parse_params(dict(params), task_id)
    return SearchBudget(
        attempts=parsed.attempts,
        seconds=parsed.seconds,
        step_seconds=parsed.step_seconds,
        tactic_seconds=parsed.tactic_seconds,
        restart_every=parsed.restart_every,
    )


def drive_proof(context: Execution, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
    """Search a proof for the experiment's problem; the gate judges the file this leaves.

    A run cancelled meanwhile stops the search at its next prover run (`context.should_stop`).
    """
    task = context.task
    params = parse_params(spec.params, task.id)
    if params.proof is not None:
        return context.workload.run(task, spec, directory, context.sandbox_factory)
    problem = resolve_problem(spec.params, task.id)
    workload = context.workload if isinstance(context.workload, ProofsWorkload) else ProofsWorkload()
    prover = workload.prover(directory, context.sandbox_factory, params.backend)
    conjecture = ConjectureCorrector(context.llm, problem) if context.llm is not None else None
    wanted = None if params.skeletons == "all" else tuple(name.strip() for name in params.skeletons.split(","))
    unknown = [name for name in wanted or () if name not in dict(SKELETONS)]
    if unknown:
        known = ", ".join(name for name, _ in SKELETONS)
        return ExperimentOutcome(
            key=spec.key, status="error", error=f"unknown skeleton(s) {', '.join(unknown)}; known: {known}"
        )
    proposer = BuiltinProposer(wanted)
    search = ProofSearch(
        problem,
        prover,
        budget_from(spec.params, task.id),
        proposer=proposer,
        conjecture=conjecture,
        seed=task.seed,
        should_stop=context.should_stop,
    )
    try:
        result = search.run()
    finally:
        prover.close()
    (directory / PROOF_FILE).write_text(result.source or problem.theorem_file("Proof.\nAdmitted."))
    with (directory / SEARCH_LOG).open("w") as handle:
        for entry in result.log:
            handle.write(json.dumps(entry, default=str) + "\n")
    info: dict[str, object] = {
        "problem": problem.id,
        "search": "solved" if result.solved else f"not solved: {result.stopped}",
        "origin": result.origin,
        "proposer": "llm" if conjecture is not None else "builtin",
        "backend": params.backend,
        "llm_calls": result.llm_calls,
    }
    if result.llm_stopped:
        info["llm_stopped"] = result.llm_stopped
    if conjecture is not None and conjecture.exhausted:
        # The run's token budget ran out inside this search: said on the run and in its report, not only here.
        context.emit("budget", f"{spec.key}: stopped asking the model: {result.llm_stopped}", experiment=spec.key)
    return ExperimentOutcome(
        key=spec.key,
        status="completed",
        metrics={
            "solved": 1.0 if result.solved else 0.0,
            "attempts": float(result.attempts),
            "seconds": result.seconds,
        },
        files=proof_files(with_log=True),
        info=info,
    )


class ProofSearchProposer(Proposer):
    """The `proofs` workload's proposer (entry point `labgate.proposers`): each experiment is a proof search."""

    def run_experiment(self, execution: Execution, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
        return drive_proof(execution, spec, directory)
