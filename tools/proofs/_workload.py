"""The proof workload: catalog, plans (one experiment per problem), and checking a given proof.

Finding a proof is a search whose proposers live in `agents/` (the `proofs` driver); what this
workload runs itself is the check of one proof script, so that a task carrying `params.proof`
works without any proposer. Either way the experiment leaves `proof.v` (the whole file: trusted
header, statement, proof) for the proof gate, which re-checks it from the catalog's statement.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from types import MappingProxyType
from typing import Any, Self

from pydantic import Field, field_validator

from runs import MAX_EXPERIMENT_KEY, ExperimentKeyError, ExperimentSpec, TaskSpec, check_experiment_key
from tools._workload import (
    ExperimentOutcome,
    OutputFile,
    SandboxFactory,
    TaskError,
    ToolUnavailableError,
    Workload,
    WorkloadSettings,
)
from tools.proofs._coq import CoqConfig, CoqProver, coq_version
from tools.proofs._isabelle import IsabelleServer
from tools.proofs._lean import LeanRepl
from tools.proofs._minif2f import exclusion_reason
from tools.proofs._problems import ProofProblem
from tools.proofs._prover import Prover, ProverUnavailableError
from tools.proofs._session import CoqSession
from tools.proofs._tasks import SETS, ProofParams, catalog_tasks, parse_params, problems_of, resolve_problem
from tools.proofs._user_theorem import check_statement, with_statement_titles

PROOF_FILE = "proof.v"
PROOF_FILES = MappingProxyType({"coq": PROOF_FILE, "lean4": "Proof.lean", "isabelle": "Proof.thy"})
"""The file a proof experiment leaves, per prover (an Isabelle theory is named after its file)."""
SEARCH_LOG = "search-log.jsonl"
HAMMER_DIR = Path("/usr/lib/ocaml/coq/user-contrib/Hammer")
IMAGES = MappingProxyType({"coq": "coq", "lean4": "lean4", "isabelle": "isabelle"})


def proof_file_name(prover: str) -> str:
    """`proof.v`, `Proof.lean` or `Proof.thy`."""
    return PROOF_FILES[prover]


def proof_files(*, with_log: bool, prover: str = "coq") -> list[OutputFile]:
    """The outputs of a proof experiment: the proof file (required) and the search log."""
    files = [OutputFile(path=proof_file_name(prover), kind="proof", role="proof")]
    if with_log:
        files.append(OutputFile(path=SEARCH_LOG, kind="log", role="search-log", required=False))
    return files


class ProofsSettings(WorkloadSettings):
    """Where each prover lives (LABGATE_COQC, LABGATE_LEAN_REPL, ...): names on PATH or absolute paths."""

    coqc: str = Field(default="coqc", description="the Coq compiler (a name on PATH or an absolute path)")
    lean_repl: str = Field(default="repl", description="the Lean REPL (leanprover-community/repl) for the search")
    lean: str = Field(default="lean", description="the Lean 4 compiler the proof gate compiles its check file with")
    lean_project: str = Field(
        default="", description="the Lake project (with Mathlib) the REPL and the gate run in; empty: none"
    )
    lean_checker: str = Field(
        default="lean4checker",
        description="the gate's independent replay of a compiled module (lean4checker), given the module name",
    )
    isabelle: str = Field(
        default="isabelle", description="the Isabelle launcher (server for the search, build for the gate)"
    )

    @field_validator("coqc")
    @classmethod
    def _blank_is_default(cls, value: str) -> str:
        """An empty LABGATE_COQC= means the default, as for the gate (`CoqConfig.from_environment`)."""
        return value.strip() or "coqc"


_DEFAULTS = {name: field.default for name, field in ProofsSettings.model_fields.items()}


SUBJECT_PARAMS = ("prover", "set", "problem", "statement", "header")
"""What a proof task proves, and in which prover: the task's alone. The gate allows the header's own
postulates, so a proposal (an LLM's revision, a plan) that could add to the header, or restate the
theorem, would have any statement proved."""


class ProofsWorkload(Workload):
    name = "proofs"
    image = "coq"
    artifact_kinds = MappingProxyType({"proof": "coq"})
    Settings = ProofsSettings

    def __init__(self, coq: CoqConfig | None = None, settings: ProofsSettings | None = None) -> None:
        self.coq = coq or CoqConfig()
        self.settings = settings or ProofsSettings.model_construct(**_DEFAULTS)
        self._tasks: list[TaskSpec] | None = None

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> Self:
        if not isinstance(settings, ProofsSettings):
            raise TypeError(f"the proofs workload is configured by ProofsSettings, not {type(settings).__name__}")
        return cls(CoqConfig(coqc=settings.coqc), settings)

    def sandbox_image(self, task: TaskSpec) -> str | None:
        """The prover's image: coq, lean4 or isabelle (sandboxes/images/<name>)."""
        prover = task.params.get("prover", "coq")
        return IMAGES.get(str(prover), self.image)

    def tasks(self) -> list[TaskSpec]:
        if self._tasks is None:
            self._tasks = catalog_tasks()
        return [task.model_copy(deep=True) for task in self._tasks]

    def params(self, task: TaskSpec) -> ProofParams:
        return parse_params(task.params, task.id)

    def fixed_params(self, task: TaskSpec) -> tuple[str, ...]:
        return SUBJECT_PARAMS

    def validate_experiment(self, task: TaskSpec, params: dict[str, Any]) -> None:
        for name in SUBJECT_PARAMS:
            if params.get(name) != task.params.get(name) and params.get(name) not in task.sweep.get(name, []):
                raise TaskError(
                    f"{name} names what the task proves (or with which prover) and is fixed by the task; "
                    "propose other parameters"
                )
        parse_params(params, task.id)

    def validate(self, task: TaskSpec) -> None:
        unknown = set(task.sweep) - {"problem", "attempts", "seconds", "step_seconds", "tactic_seconds"}
        if unknown:
            raise TaskError(f"{task.id}: cannot sweep {', '.join(sorted(unknown))} in a proof task")
        for params in self._combinations(task):
            parsed = parse_params(params, task.id)
            if parsed.problem is not None or parsed.statement is not None:
                resolve_problem(params, task.id)
            check_statement(params, task.id, self.coq, self.settings)

    def titled(self, task: TaskSpec) -> TaskSpec:
        """`task` titled, asked and named after its own statement, if it states one (a task file, a REST
        body with `extends`, a catalog task with another statement); the catalog task no longer names it."""
        named = task.extends or task.id  # a catalog task given another statement (`--param statement=`) too
        catalog = self.tasks()
        base = next((known for known in catalog if known.id == named), None)
        taken = {text for known in catalog if known.id != named for text in (known.title, known.goal) if text}
        return with_statement_titles(task, base, taken)

    def _combinations(self, task: TaskSpec) -> list[dict[str, Any]]:
        problems = task.sweep.get("problem")
        if problems is None:
            return [dict(task.params)]
        return [{**task.params, "problem": str(name)} for name in problems]

    def plan(self, task: TaskSpec) -> list[ExperimentSpec]:
        combinations = self._combinations(task)
        parsed = parse_params(combinations[0], task.id)
        if len(combinations) == 1 and parsed.problem is None and parsed.statement is None:
            split = SETS[str(parsed.set)]
            names = [
                p.name for p in problems_of(parsed) if parsed.prover != "coq" or exclusion_reason(split, p.name) is None
            ]
            if parsed.limit is not None:
                names = names[: parsed.limit]
            combinations = [{**task.params, "problem": name} for name in names]
        plans = []
        for params in combinations:
            problem = resolve_problem(params, task.id)
            plans.append(
                ExperimentSpec(
                    key=experiment_key_of(problem.name),
                    task_id=task.id,
                    params={key: value for key, value in params.items() if key != "limit"},
                    rationale=f"prove {problem.name}",
                )
            )
        return plans

    def problem(self, task: TaskSpec, experiment: ExperimentSpec) -> ProofProblem:
        return resolve_problem(experiment.params, task.id)

    def ray_resources(self, task: TaskSpec) -> dict[str, float]:
        """Ray nodes that run proof experiments must have the prover (`ray start --resources '{"coq": N}'`)."""
        return {str(task.params.get("prover", "coq")): 1}

    def check_tools(self, task: TaskSpec) -> None:
        prover = str(task.params.get("prover", "coq"))
        if prover == "coq":
            try:
                self.coq.executable()
            except ProverUnavailableError as error:
                raise ToolUnavailableError(str(error)) from None
            return
        needed = [self.settings.lean_repl, self.settings.lean] if prover == "lean4" else [self.settings.isabelle]
        missing = [name for name in needed if shutil.which(name) is None]
        if missing:
            raise ToolUnavailableError(
                f"{prover}: {', '.join(missing)} not installed; build sandboxes/images/{IMAGES.get(prover, prover)} "
                "(needs network) and run with --sandbox docker, or set LABGATE_LEAN_REPL / LABGATE_LEAN / "
                "LABGATE_ISABELLE"
            )

    def tool_versions(self) -> dict[str, str]:
        versions = {"coq": coq_version(self.coq.coqc) or "not found"}
        versions["lean-repl"] = "installed" if shutil.which(self.settings.lean_repl) else "not found"
        versions["isabelle"] = "installed" if shutil.which(self.settings.isabelle) else "not found"
        versions["coq-hammer"] = "installed" if HAMMER_DIR.is_dir() else "not found"
        versions["eprover"] = "installed" if shutil.which("eprover") else "not found"
        return versions

    def prover(
        self, directory: Path, sandbox_factory: SandboxFactory, backend: str = "coqc", prover: str = "coq"
    ) -> Prover:
        """The search's backend working in `directory/prover`: for Coq one coqc per check or a persistent
        session; the Lean REPL or an Isabelle server for the others."""
        if prover == "lean4":
            return LeanRepl(
                directory / "prover",
                sandbox_factory,
                repl=self.settings.lean_repl,
                lean=self.settings.lean,
                project=self.settings.lean_project or None,
            )
        if prover == "isabelle":
            return IsabelleServer(directory / "prover", sandbox_factory, isabelle=self.settings.isabelle)
        if backend == "session":
            return CoqSession(directory / "prover", sandbox_factory, self.coq)
        return CoqProver(directory / "prover", sandbox_factory, self.coq)

    def adopt(
        self, task: TaskSpec, source: Path, directory: Path, sandbox_factory: SandboxFactory
    ) -> tuple[ExperimentSpec, ExperimentOutcome]:
        """A proof someone wrote, as the outcome a proof search would have (see `_adopt`)."""
        from tools.proofs._adopt import adopt_proof

        return adopt_proof(task, source, directory)

    def run(
        self, task: TaskSpec, experiment: ExperimentSpec, directory: Path, sandbox_factory: SandboxFactory
    ) -> ExperimentOutcome:
        """Check the proof script in `params.proof` (searching is the `proofs` driver's job)."""
        params = parse_params(experiment.params, task.id)
        problem = self.problem(task, experiment)
        if params.proof is None:
            return ExperimentOutcome(
                key=experiment.key,
                status="error",
                error="no proof given (params.proof) and no proof-search driver registered",
            )
        source = problem.theorem_file(params.proof)
        (directory / proof_file_name(params.prover)).write_text(source)
        prover = self.prover(directory, sandbox_factory, prover=params.prover)
        try:
            result = prover.check(source, timeout=params.seconds)
        finally:
            prover.close()
        return ExperimentOutcome(
            key=experiment.key,
            status="completed",
            metrics={"solved": 1.0 if result.ok else 0.0, "attempts": 1.0, "seconds": result.seconds},
            files=proof_files(with_log=False, prover=params.prover),
            info={"problem": problem.id, "check": result.summary()},
        )


def experiment_key_of(theorem: str) -> str:
    """The experiment key of a proof of `theorem`: its name, where that can name an experiment's folder.

    Coq allows names a key cannot be (`_foo`, 300 characters): such a task was accepted when submitted and every
    run of it failed ("experiment key '_foo' must not start with '.' or '_'"). Those get `theorem-` before the
    name, cut to the key's length with a digest of the whole name kept, so two long names never share a key.
    """
    try:
        return check_experiment_key(theorem)
    except ExperimentKeyError:
        pass
    key = f"theorem-{theorem}"
    if len(key) > MAX_EXPERIMENT_KEY:
        digest = hashlib.sha256(theorem.encode()).hexdigest()[:12]
        key = f"{key[: MAX_EXPERIMENT_KEY - len(digest) - 1]}-{digest}"
    return check_experiment_key(key)
