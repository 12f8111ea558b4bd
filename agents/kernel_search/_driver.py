"""The kernels proposer: one experiment is one search whose winner the gates judge.

It opens a sandboxed harness, runs the configured loop with the built-in proposer or the run's
LLM, re-measures the best candidates (and the seed) on fresh inputs before declaring a winner,
and writes the winner, the seed, the search log and a summary as the experiment's files.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from random import Random
from typing import Any

from agents._execution import Execution
from agents._proposer import Proposer as ExperimentProposer
from agents.kernel_search._builtin import BuiltinProposer
from agents.kernel_search._library import variant_of
from agents.kernel_search._llm import LLMProposer
from agents.kernel_search._loops import Evaluator, Individual, Proposer, SearchBudget, islands, one_plus_one
from agents.kernel_search._resume import SEARCH_LOG, resolve_resume
from agents.llm import LLM
from runs import ExperimentSpec, LabgateError, RunStore, TaskSpec
from tools import ExperimentOutcome, OutputFile
from tools.kernels import (
    Harness,
    KernelTask,
    ceilings_record,
    kernel_task,
    open_harness,
    parse_params,
    search_budget,
    write_evaluation_files,
)

REMEASURE_REPEATS = 9
CLOSE = 0.85
"""Candidates within this fraction of the search's best are re-measured too: their order is within the noise."""
TIE = 0.05
"""Re-measured finalists within this relative margin of the leader are measured once more (mean of both rounds)."""


def descriptor_for(task: KernelTask) -> Any:
    """MAP-Elites cell: the structural variant, the first and last tunables' values and whether local memory is used."""
    names = list(task.tunables)

    def describe(individual: Individual) -> tuple[Any, ...]:
        params = individual.evaluation.params
        picked = tuple(params.get(name) for name in ([names[0], names[-1]] if names else []))
        return (variant_of(individual.source), *picked, "__local" in individual.source)

    return describe


def speedup(seed: Individual, best: Individual) -> float:
    seed_times, best_times = seed.evaluation.seconds_by_size(), best.evaluation.seconds_by_size()
    ratios = [seed_times[k] / best_times[k] for k in seed_times if best_times.get(k, 0) > 0 and seed_times[k] > 0]
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else 0.0


def remeasure(harness: Harness, candidates: list[Individual], rng: Random) -> list[Individual]:
    """The finalists re-evaluated on fresh inputs with more repeats, in the given order."""
    seed = rng.randrange(1 << 31)
    remeasured: list[Individual] = []
    for candidate in candidates:
        evaluation = harness.evaluate(candidate.source, seed=seed, repeats=REMEASURE_REPEATS)
        remeasured.append(
            Individual(
                candidate.index, candidate.source, evaluation, candidate.note, candidate.parent, candidate.mean_logprob
            )
        )
    return remeasured


def finalists(evaluator: Evaluator, count: int) -> list[Individual]:
    """The top `count`, plus (up to `count` more) any whose fitness is within CLOSE of the best."""
    ranked = evaluator.best(2 * count)
    if not ranked:
        return []
    top = ranked[0].fitness
    return [c for rank, c in enumerate(ranked) if rank < count or c.fitness >= CLOSE * top]


def settle_ties(harness: Harness, remeasured: list[Individual], rng: Random) -> tuple[Individual, list[Individual]]:
    """The winner after spending one more measurement round on finalists within TIE of the leader.

    Such finalists' order is noise-dominated; each is measured again and ranked by the mean
    fitness of both rounds (the second round's evaluation is kept as its record).
    """
    leader = max(remeasured, key=lambda i: (i.fitness, -i.index))
    close = [i for i in remeasured if i.fitness > 0 and i.fitness >= (1 - TIE) * leader.fitness]
    if len(close) < 2:
        return leader, remeasured
    again = {i.index: i for i in remeasure(harness, close, rng)}
    first = {i.index: i.fitness for i in close}
    mean = {k: (first[k] + again[k].fitness) / 2 if again[k].fitness > 0 else 0.0 for k in again}
    updated = [again.get(i.index, i) for i in remeasured]
    best_index = max(mean, key=lambda k: (mean[k], -k))
    return next(i for i in updated if i.index == best_index), updated


def build_proposer(task: KernelTask, params: Any, llm: LLM | None, device: str) -> tuple[Proposer, str]:
    if params.proposer == "llm" and llm is not None:
        proposer = LLMProposer(task, llm, device=device, edit=params.edit, samples=params.samples)
        return proposer, f"LLM ({llm.model}, {params.edit}, best-of-{params.samples} by {params.selection})"
    note = "built-in" if params.proposer == "builtin" else "built-in (no LLM endpoint configured)"
    return BuiltinProposer(task, backend=params.backend), note


class SearchStoppedError(LabgateError):
    """The run was cancelled or interrupted while its kernel search ran."""


def run_search(
    task: KernelTask,
    params: Any,
    harness: Harness,
    proposer: Proposer,
    *,
    seed: int,
    seconds: float,
    evaluations: int | None = None,
    log_path: Path | None = None,
    on_progress: Any = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """Run the configured loop; returns seed, search best, winner, re-measurements and the evaluator.

    Raises SearchStoppedError when `should_stop` turned true (the run was cancelled or interrupted):
    the finalists are not measured again on a worker that is being killed."""
    rng = Random(seed)
    inputs_rng = Random(seed ^ 0x5EED5EED)
    log = log_path.open("w") if log_path else None

    def record(individual: Individual) -> None:
        if log is not None:
            entry = {
                "index": individual.index,
                "parent": individual.parent,
                "note": individual.note,
                "status": individual.evaluation.status,
                "fitness": individual.evaluation.fitness,
                "input_seed": individual.evaluation.seed,
                "params": individual.evaluation.params,
                "feedback": individual.evaluation.feedback(),
                "sizes": [size.model_dump(mode="json") for size in individual.evaluation.sizes],
                "source": individual.source,
            }
            log.write(json.dumps(entry) + "\n")
            log.flush()
        if on_progress is not None:
            on_progress(individual)

    evaluator = Evaluator(
        lambda source: harness.evaluate(source, seed=inputs_rng.randrange(1 << 31)),
        SearchBudget(evaluations or params.evaluations, seconds),
        record,
        should_stop,
    )
    try:
        if params.search == "one-plus-one":
            best = one_plus_one(evaluator, task.seed, proposer, rng, params.selection, starts=params.starts)
        else:
            best = islands(
                evaluator,
                task.seed,
                proposer,
                rng,
                descriptor_for(task),
                count=params.islands,
                migrate_every=params.migrate_every,
                rule=params.selection,
                starts=params.starts,
            )
    finally:
        if log is not None:
            log.close()
    if should_stop():
        raise SearchStoppedError(
            f"the search stopped after {len(evaluator.individuals)} evaluations: the run is stopping"
        )
    search_seconds = time.monotonic() - evaluator.started
    origin = evaluator.individuals[0]
    pool = [origin, *[f for f in finalists(evaluator, params.remeasure) if f.index != origin.index]]
    remeasured = remeasure(harness, pool, rng)
    winner, remeasured = settle_ties(harness, remeasured, rng)
    return {
        "seed": remeasured[0],
        "search_seed": origin,
        "search_best": best,
        "winner": winner,
        "remeasured": {i.index: i.fitness for i in remeasured},
        "evaluator": evaluator,
        "search_seconds": search_seconds,
    }


def drive_kernel_search(context: Execution, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
    params = parse_params(spec.params, context.task.id)
    task = kernel_task(params.kernel, params.definition)
    evaluations, search_seconds = search_budget(params, context.task.budget)
    seconds = max(1.0, min(context.task.budget.experiment_seconds, context.remaining_seconds()))
    if search_seconds is not None:
        seconds = min(seconds, search_seconds)

    def progress(individual: Individual) -> None:
        if individual.index % 10 == 0 or individual.evaluation.status != "ok":
            context.emit(
                "search",
                f"{spec.key}: evaluation {individual.index + 1}/{evaluations} "
                f"{individual.evaluation.status} fitness {individual.evaluation.fitness:.4f} ({individual.note})",
                key=spec.key,
            )

    with open_harness(
        task, directory / "worker", context.sandbox_factory, backend=params.backend, timeout=params.eval_timeout
    ) as harness:
        device = harness.worker.device
        proposer, proposer_note = build_proposer(
            task, params, context.llm, f"{device.get('name')} ({device.get('vendor')})"
        )
        result = run_search(
            task,
            params,
            harness,
            proposer,
            seed=context.task.seed,
            seconds=seconds,
            evaluations=evaluations,
            log_path=directory / "search.jsonl",
            on_progress=progress,
            should_stop=context.should_stop,
        )
        ceilings = ceilings_record(harness)
        restarts = harness.worker.starts - 1
    seed_ind, winner = result["seed"], result["winner"]
    evaluator: Evaluator = result["evaluator"]
    (directory / "seed.cl").write_text(task.seed)
    summary = {
        "task": task.name,
        "search": params.search,
        "proposer": proposer_note,
        "evaluations": len(evaluator.individuals),
        "budget": {"evaluations": evaluations, "seconds": round(seconds, 2)},
        "search_seconds": round(result["search_seconds"], 2),
        "seed_fitness": result["search_seed"].fitness,
        "seed_fitness_remeasured": seed_ind.fitness,
        "search_best": {"index": result["search_best"].index, "fitness": result["search_best"].fitness},
        "remeasured": {str(k): v for k, v in result["remeasured"].items()},
        "winner": {"index": winner.index, "note": winner.note, "fitness": winner.fitness},
        "speedup_over_seed": speedup(seed_ind, winner),
        "worker_restarts": restarts,
        "ceilings": ceilings,
    }
    files = write_evaluation_files(directory, winner.source, winner.evaluation, {"summary": summary})
    (directory / "summary.json").write_text(json.dumps(summary, indent=1))
    files += [
        OutputFile(path="seed.cl", kind="kernel", role="seed-kernel", required=False),
        OutputFile(path="search.jsonl", kind="log", role=SEARCH_LOG),
        OutputFile(path="summary.json", kind="data", role="search-summary"),
    ]
    return ExperimentOutcome(
        key=spec.key,
        status="completed",
        metrics={
            "seed fitness": seed_ind.fitness,
            "winner fitness": winner.fitness,
            "in-distribution speedup (search)": summary["speedup_over_seed"],
            "evaluations": float(summary["evaluations"]),
        },
        files=files,
        info={"summary": {k: v for k, v in summary.items() if k != "ceilings"}},
    )


class KernelSearchProposer(ExperimentProposer):
    """The `kernels` workload's proposer (entry point `labgate.proposers`): each experiment is a search."""

    def run_experiment(self, execution: Execution, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
        return drive_kernel_search(execution, spec, directory)

    def resolve(self, task: TaskSpec, store: RunStore) -> TaskSpec:
        return resolve_resume(task, store)
