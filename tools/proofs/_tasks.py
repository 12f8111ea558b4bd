"""Proof tasks: catalog entries for the miniF2F sets and their problems, and their typed parameters.

A task names a set (`minif2f-valid`, `minif2f-test`) and optionally one problem, or carries its
own statement (a task file with `params.statement` and `params.header`). Whatever the source, the
trusted problem is rebuilt here from the task's parameters and the shipped data, never from a file
an experiment wrote.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from runs import Budget, TaskSpec
from tools._catalog import describe_validation_error
from tools._workload import TaskError
from tools.proofs._foreign_data import foreign_problem, load_foreign_split
from tools.proofs._minif2f import SPLITS, excluded, exclusion_reason, load_split, problem_id, set_name
from tools.proofs._problems import ProblemFormatError, ProofProblem, problem_from_statement
from tools.proofs._sentences import UnterminatedSourceError

SETS = {set_name(split): split for split in SPLITS}
PROOF_GATES = ["proof-check"]
PROVERS = ("coq", "lean4", "isabelle")
ProverName = Literal["coq", "lean4", "isabelle"]


MAX_SECONDS = 7 * 86_400
"""Longest time limit a proof task may set, as a budget's longest execution: seven days."""


class ProofParams(BaseModel):
    """Parameters of a proof task; the search budget is per problem."""

    model_config = ConfigDict(extra="forbid")

    prover: ProverName = Field(
        default="coq", description="the proof assistant: coq (installed), lean4 or isabelle (their images)"
    )
    set: str | None = Field(default=None, description="minif2f-valid or minif2f-test")
    problem: str | None = Field(default=None, description="one problem of the set, by theorem name")
    statement: str | None = Field(
        default=None,
        description="a theorem of your own: one Coq `Theorem name : type.`, Lean `theorem name : type` or "
        'Isabelle `theorem name: "..."` (see tools/proofs/examples)',
    )
    header: str = Field(
        default="",
        description="imports, scopes and definitions the statement needs (Isabelle: `theory T imports ... begin` too)",
    )
    limit: int | None = Field(default=None, ge=1, description="only the first N problems of the set")
    attempts: int = Field(default=48, ge=1, le=10_000, description="prover checks per problem")
    # Time limits end as timers and timeouts of the prover's process: past MAX_SECONDS (the longest
    # execution a budget allows) a number like 1e308 cannot be set as one and fails mid-run instead.
    seconds: float = Field(default=90.0, gt=0, le=MAX_SECONDS, description="wall-clock seconds per problem")
    step_seconds: float = Field(default=24.0, gt=0, le=MAX_SECONDS, description="tool-correction budget for one step")
    tactic_seconds: float = Field(default=3.0, gt=0, le=MAX_SECONDS, description="budget for one automation tactic")
    recall_seconds: float = Field(
        default=10.0,
        ge=0,
        le=MAX_SECONDS,
        description="of the seconds above, the most spent checking scripts recalled from the proof memory "
        "(0: none are tried); the rest is the skeletons'",
    )
    restart_every: int = Field(
        default=4, ge=1, le=10_000, description="conjecture correction: fresh draft every k attempts"
    )
    backend: Literal["session", "coqc"] = Field(
        default="session", description="search prover: a persistent coqidetop session or one coqc per attempt"
    )
    skeletons: str = Field(default="all", description="built-in proof skeletons to draft from: 'all' or names, ','")
    library: bool = Field(
        default=True, description="Coq: try the library lemmas `Search` names for a goal no automation closes"
    )
    proof: str | None = Field(default=None, description="a proof script to check instead of searching")
    reply_tokens: int = Field(
        default=2048,
        ge=64,
        le=32_768,
        description="with an LLM: the longest reply asked for one draft or revision (a slow local model "
        "spends its time in long replies; a shorter cap leaves room for more corrections)",
    )

    @field_validator(
        "limit",
        "attempts",
        "seconds",
        "step_seconds",
        "tactic_seconds",
        "recall_seconds",
        "restart_every",
        "reply_tokens",
        mode="before",
    )
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        """A number as given: lax validation would run `seconds: true` as 1 s and `attempts: "5"` as 5 while
        the run records the boolean and the text (this workload declares no schema the front door checks)."""
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{_shown(value)} is not a number; give the number itself")
        return value

    @field_validator("library", mode="before")
    @classmethod
    def _a_boolean(cls, value: Any) -> Any:
        """true or false as given: lax validation would take `"yes"`, `"off"` or 1 for a boolean."""
        if not isinstance(value, bool):
            raise ValueError(f"{_shown(value)} is not a boolean; give true or false")
        return value


def _shown(value: Any) -> str:
    """A short rendering of a refused value (never a whole document)."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_params(params: dict[str, Any], task_id: str) -> ProofParams:
    try:
        parsed = ProofParams.model_validate(params)
    except ValidationError as error:
        raise TaskError(f"{task_id}: {describe_validation_error(error)}") from None
    if parsed.statement is None and parsed.set is None:
        raise TaskError(f"{task_id}: a proof task needs params.set ({', '.join(SETS)}) or params.statement")
    if parsed.set is not None and parsed.set not in SETS:
        raise TaskError(f"{task_id}: unknown proof set {parsed.set!r}; known: {', '.join(SETS)}")
    return parsed


def problems_of(params: ProofParams) -> list[ProofProblem]:
    """Every problem of the params' set (excluded ones included), in name order."""
    if params.set is None:
        return []
    if params.prover != "coq":
        return load_foreign_split(params.prover, SETS[params.set], params.set)
    return list(load_split(SETS[params.set]))


def resolve_problem(params: dict[str, Any], task_id: str = "task") -> ProofProblem:
    """The trusted problem one experiment (or one single-problem task) is about.

    Raises:
        TaskError: the problem is unknown, excluded on this Coq, or its statement unreadable.
    """
    parsed = parse_params(params, task_id)
    if parsed.statement is not None:
        text = f"{parsed.header.rstrip()}\n\n{parsed.statement.strip()}\n" if parsed.header else parsed.statement
        try:
            if parsed.prover != "coq":
                return foreign_problem(parsed.prover, task_id, text, source="task parameters")
            return problem_from_statement(task_id, parsed.header, parsed.statement, source="task parameters")
        except (ProblemFormatError, UnterminatedSourceError) as error:
            raise TaskError(f"{task_id}: params.statement: {error}") from None
    if parsed.problem is None:
        raise TaskError(f"{task_id}: name one problem with params.problem")
    assert parsed.set is not None
    split = SETS[parsed.set]
    if parsed.prover != "coq":
        fetched = {problem.name: problem for problem in load_foreign_split(parsed.prover, split, parsed.set)}
        if parsed.problem not in fetched:
            raise TaskError(f"{task_id}: no problem {parsed.problem!r} in {parsed.set} ({parsed.prover})")
        return fetched[parsed.problem]
    known = {problem.name: problem for problem in load_split(split)}
    if parsed.problem not in known:
        close = [name for name in known if name.startswith(parsed.problem[:6])][:6]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise TaskError(f"{task_id}: no problem {parsed.problem!r} in {parsed.set}{hint}")
    reason = exclusion_reason(split, parsed.problem)
    if reason is not None:
        raise TaskError(f"{parsed.set}/{parsed.problem} is excluded: it does not compile on Coq 8.16 ({reason})")
    return known[parsed.problem]


def catalog_tasks() -> list[TaskSpec]:
    """The two sets and each of their problems."""
    tasks: list[TaskSpec] = []
    for name, split in SETS.items():
        problems = load_split(split)
        dropped = [problem.name for problem in problems if exclusion_reason(split, problem.name)]
        usable = len(problems) - len(dropped)
        excluded_text = "; ".join(f"{entry}: {excluded()[f'{split}/{entry}']['reason']}" for entry in dropped)
        tasks.append(
            TaskSpec(
                id=f"proofs/{name}",
                workload="proofs",
                title=f"miniF2F {split} split in Coq ({usable} of {len(problems)} statements compile on Coq 8.16)",
                goal=(
                    f"Prove every usable statement of miniF2F {split} (LLM4Rocq/miniF2F-rocq, MIT) with the statement "
                    f"unchanged, Qed, and no axiom beyond the allow-list. Excluded: {excluded_text or 'none'}."
                ),
                params={"set": name},
                gates=list(PROOF_GATES),
                budget=Budget(experiments=len(problems), iterations=1, wall_seconds=7 * 86_400),
            )
        )
        for problem in problems:
            reason = exclusion_reason(split, problem.name)
            tasks.append(
                TaskSpec(
                    id=problem_id(split, problem.name),
                    workload="proofs",
                    title=f"miniF2F {split}: {problem.name}"
                    + (" (excluded: does not compile on Coq 8.16)" if reason else ""),
                    goal=f"Prove {problem.name} with its statement unchanged.",
                    params={"set": name, "problem": problem.name},
                    gates=list(PROOF_GATES),
                    budget=Budget(experiments=1, iterations=1),
                )
            )
    tasks.extend(fetched_set_tasks())
    return tasks


def fetched_set_tasks() -> list[TaskSpec]:
    """Catalog entries for the Lean 4 / Isabelle miniF2F sets fetched to this machine and each of their
    problems (none by default)."""
    tasks = []
    for prover in PROVERS[1:]:
        for name, split in SETS.items():
            try:
                problems = load_foreign_split(prover, split, name)
            except TaskError:
                continue
            tasks.append(
                TaskSpec(
                    id=f"proofs/{name}-{prover}",
                    workload="proofs",
                    title=f"miniF2F {split} split in {prover} ({len(problems)} statements, fetched)",
                    goal=f"Prove every statement of miniF2F {split} in {prover} with the statement unchanged and "
                    "nothing assumed beyond the prover's standard axioms.",
                    params={"set": name, "prover": prover},
                    gates=list(PROOF_GATES),
                    budget=Budget(experiments=len(problems), iterations=1, wall_seconds=7 * 86_400),
                )
            )
            for problem in problems:
                tasks.append(
                    TaskSpec(
                        id=f"proofs/{name}-{prover}/{problem.name}",
                        workload="proofs",
                        title=f"miniF2F {split} in {prover}: {problem.name}",
                        goal=f"Prove {problem.name} in {prover} with its statement unchanged.",
                        params={"set": name, "prover": prover, "problem": problem.name},
                        gates=list(PROOF_GATES),
                        budget=Budget(experiments=1, iterations=1),
                    )
                )
    return tasks
