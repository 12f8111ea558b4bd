"""The `proofs` workload's proposer: one experiment is one correction loop for one problem.

It builds the trusted problem from the task, runs the search with the run's model (or the
built-in proposer), and writes what the gate will judge: `proof.v` (the proof found, or the last
attempt) and `search-log.jsonl` (every prover run and model call; each check keeps the draft it
checked, and a check failing at a step the goal that step faced, for the run page). It reports the search's own
view in `info` and `metrics`, which the gate ignores: the gate re-checks `proof.v` itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from agents._context import RunContext
from agents._execution import Execution
from agents._proposer import Proposer
from agents.proof_search._conjecture import ConjectureCorrector
from agents.proof_search._dialects import ISABELLE_SKELETONS, LEAN_SKELETONS
from agents.proof_search._memory import (
    MAX_ANALYSED_CHARS,
    RETRIEVE_ENV,
    SplitFilter,
    analysable,
    memorable,
    memory_from_environment,
)
from agents.proof_search._proposer import SKELETONS, BuiltinProposer
from agents.proof_search._script import AUTOMATION_IMPORTS, ProofScript, script_from_text
from agents.proof_search._search import ProofSearch, SearchBudget
from agents.proof_search._step_memory import StepRecall, accepted_pairs, record_pairs
from runs import ExperimentSpec, RunStore, TaskSpec, json_objects
from tools import ExperimentOutcome, SandboxFactory, TaskError
from tools.proofs import (
    PROOF_FILE,
    SEARCH_LOG,
    ProofProblem,
    ProofsWorkload,
    Prover,
    parse_params,
    pooled_session,
    proof_file_name,
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
        recall_seconds=parsed.recall_seconds,
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
    hint = problem.theorem_file("", imports=AUTOMATION_IMPORTS) if params.prover == "coq" else ""
    prover = search_prover(workload, directory, context.sandbox_factory, params.backend, params.prover, hint)
    conjecture = (
        ConjectureCorrector(context.llm, problem, max_tokens=params.reply_tokens) if context.llm is not None else None
    )
    wanted, skeletons, problem_text = chosen_skeletons(params)
    if problem_text:
        prover.close()
        return ExperimentOutcome(key=spec.key, status="error", error=problem_text)
    remembered: list[ProofScript]
    steps: StepRecall | None = None
    analyse = analysable(problem)
    if params.prover != "coq":
        remembered, memory_note = [], "off (the proof memory holds Coq proofs)"
    elif not analyse:
        remembered, memory_note = [], f"off (header and statement over {MAX_ANALYSED_CHARS:,} characters)"
    elif wanted is None:
        remembered, memory_note = recalled(problem)
        steps = recalled_steps(problem)
    else:
        remembered, memory_note = [], "off (skeletons restricted)"
    if steps is not None:
        memory_note += f"; {len(steps.entries)} closing step(s) readable"
    proposer = BuiltinProposer(wanted, remembered, skeletons, analyse=analyse)
    search = ProofSearch(
        problem,
        prover,
        budget_from(spec.params, task.id),
        proposer=proposer,
        conjecture=conjecture,
        seed=task.seed,
        should_stop=context.should_stop,
        imports=AUTOMATION_IMPORTS if params.prover == "coq" else "",
        library=params.library,
        recall_tactics=steps.tactics if steps is not None and steps.entries else None,
    )
    try:
        result = search.run()
    finally:
        prover.close()
    unproved = {"coq": "Proof.\nAdmitted.", "lean4": ":= by\n  sorry", "isabelle": "sorry"}[params.prover]
    (directory / proof_file_name(params.prover)).write_text(result.source or problem.theorem_file(unproved))
    with (directory / SEARCH_LOG).open("w") as handle:
        for entry in result.log:
            handle.write(json.dumps(entry, default=str) + "\n")
    info: dict[str, object] = {
        "problem": problem.id,
        "search": "solved" if result.solved else f"not solved: {result.stopped}",
        "origin": result.origin,
        "proposer": "llm" if conjecture is not None else "builtin",
        "backend": params.backend if params.prover == "coq" else params.prover,
        "prover": params.prover,
        "llm_calls": result.llm_calls,
        "memory": memory_note,
    }
    if steps is not None and steps.entries:
        probes = [entry for entry in result.log if entry.get("kind") == "probe" and "recalled" in entry]
        info["step_memory"] = {
            "goals_offered": len(probes),
            "closed_by_recalled": sum(1 for entry in probes if entry.get("recall_won")),
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
        files=proof_files(with_log=True, prover=params.prover),
        info=info,
    )


def search_prover(
    workload: ProofsWorkload,
    directory: Path,
    sandbox_factory: SandboxFactory,
    backend: str,
    prover: str,
    source_hint: str = "",
) -> Prover:
    """The search's prover. A Coq session comes from this process's pool (kept across problems, rolled
    back between them to the libraries it loaded, which only a file starting with the same sentences
    reuses; `LABGATE_PROOF_SESSION_POOL=off` opens one per problem), scoped to the run's experiments
    directory so that stopping the run's commands there stops it too. `source_hint` (the problem's file
    up to its statement) picks the kept session whose libraries fit."""
    if prover == "coq" and backend == "session":
        return pooled_session(
            directory / "prover", sandbox_factory, workload.coq, scope=directory.parent, source_hint=source_hint
        )
    return workload.prover(directory, sandbox_factory, backend, prover=prover)


def recalled(problem: ProofProblem) -> tuple[list[ProofScript], str]:
    """Scripts of similar goals from the proof memory (split filter from the environment), and a note
    for the experiment's info; a memory that is off or unreadable gives none (the search goes on)."""
    memory = memory_from_environment()
    if memory is None or os.environ.get(RETRIEVE_ENV, "").strip().lower() == "off":
        return [], "off"
    splits = SplitFilter.from_environment()
    try:
        drafts = memory.drafts(problem, splits=splits)
    except (sqlite3.Error, OSError) as error:
        return [], f"unreadable ({memory.path}: {error})"
    excluded = f", splits excluded: {','.join(sorted(splits.exclude))}" if splits.exclude else ""
    only = f", only splits: {','.join(sorted(splits.only))}" if splits.only else ""
    return drafts, f"{len(drafts)} script(s) recalled{excluded}{only}"


def recalled_steps(problem: ProofProblem) -> StepRecall | None:
    """The step memory this search may read (split filter from the environment; the problem's own steps
    left out), or None when retrieval is off or the memory cannot be read (the search goes on without it)."""
    memory = memory_from_environment()
    if memory is None or os.environ.get(RETRIEVE_ENV, "").strip().lower() == "off":
        return None
    try:
        return StepRecall.from_memory(memory, problem.id, SplitFilter.from_environment())
    except (sqlite3.Error, OSError):
        return None


def _search_log(path: Path) -> list[dict[str, Any]]:
    """The entries of a search log (none when it is missing)."""
    return json_objects(path.read_text(errors="replace")) if path.is_file() else []


def _judged_digest(context: RunContext, key: str, digest: str) -> bool:
    """Whether an accepting proof-gate verdict on experiment `key` cites `digest` as its evidence."""
    return any(
        verdict.experiment == key
        and verdict.gate == "proof-check"
        and verdict.decision == "accept"
        and digest in verdict.evidence
        for verdict in context.store.verdicts(context.run_id)
    )


def remember(context: RunContext, spec: ExperimentSpec, decision: str) -> bool:
    """Record the proof of an experiment the gates accepted in the proof memory; True when recorded.

    Only an accepted proof is kept: the experiment's `proof.v`, read once and kept only when its digest
    is the one the accepting proof gate cited (a file changed after the verdict is not what was judged),
    taken apart against the trusted problem, never against the file's own statement.
    """
    if decision != "accept":
        return False
    params = parse_params(spec.params, context.task.id)
    if (params.problem is None and params.statement is None) or params.prover != "coq":
        return False
    memory = memory_from_environment(context.store.home)
    proof = context.experiment_dir(spec.key) / PROOF_FILE
    if memory is None or not proof.is_file():
        return False
    data = proof.read_bytes()
    if not _judged_digest(context, spec.key, hashlib.sha256(data).hexdigest()):
        context.emit("memory", f"{spec.key}: {PROOF_FILE} is not the file the proof gate accepted: not recorded")
        return False
    problem = resolve_problem(spec.params, context.task.id)
    script = script_from_text(data.decode(errors="replace"), problem, origin="accepted")
    if script is None:
        return False
    if not memorable(problem):
        context.emit(
            "memory",
            f"{spec.key}: not recorded: its header declares more than libraries, scopes and options, which "
            "gives the proof a meaning no other problem shares",
            key=spec.key,
        )
        return False
    try:
        recorded = memory.record(problem, script, run_id=context.run_id)
        pairs = accepted_pairs(_search_log(context.experiment_dir(spec.key) / SEARCH_LOG), script.steps)
        record_pairs(memory, problem, pairs, run_id=context.run_id)
        return recorded
    except (sqlite3.Error, OSError) as error:  # a memory that cannot be written never fails the run
        context.emit("memory", f"{spec.key}: the proof memory could not record it: {error}", key=spec.key)
        return False


def chosen_skeletons(params: Any) -> tuple[tuple[str, ...] | None, Any, str]:
    """The skeleton names a task asks for (None: all), the prover's skeletons, and why the names cannot be
    used (empty when they can)."""
    wanted = None if params.skeletons == "all" else tuple(name.strip() for name in params.skeletons.split(","))
    skeletons = {"coq": SKELETONS, "lean4": LEAN_SKELETONS, "isabelle": ISABELLE_SKELETONS}[params.prover]
    unknown = [name for name in wanted or () if name not in dict(skeletons)]
    if not unknown:
        return wanted, skeletons, ""
    known = ", ".join(name for name, _ in skeletons)
    return wanted, skeletons, f"unknown skeleton(s) {', '.join(unknown)} for {params.prover}; known: {known}"


class ProofSearchProposer(Proposer):
    """The `proofs` workload's proposer (entry point `labgate.proposers`): each experiment is a proof search."""

    def resolve(self, task: TaskSpec, store: RunStore) -> TaskSpec:
        """Refuse skeleton names the search does not have before the run is created (the names live here,
        beside the skeletons, so the workload's own validation cannot know them)."""
        values = task.params.get("skeletons"), *task.sweep.get("skeletons", [])
        for value in values:
            if value is None:
                continue
            _, _, problem = chosen_skeletons(parse_params({**task.params, "skeletons": value}, task.id))
            if problem:
                raise TaskError(f"{task.id}: params.skeletons: {problem}")
        return task

    def run_experiment(self, execution: Execution, spec: ExperimentSpec, directory: Path) -> ExperimentOutcome:
        return drive_proof(execution, spec, directory)

    def judged(self, context: RunContext, spec: ExperimentSpec, decision: str) -> None:
        """An accepted proof goes into the proof memory, for similar goals of later searches."""
        remember(context, spec, decision)
