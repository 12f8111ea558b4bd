"""The proof gate: a proof counts only when the kernel accepts it for the catalog's statement.

The gate reads `proof.v` from the experiment directory (through the link-refusing reader: the
directory is the candidate's) and checks it itself in a fresh scratch directory of its own, with
the coqc of the proofs workload it is built with (the one `LABGATE_COQC` names, through the front
door's settings; the same variable read directly when built without a workload) and the coqchk
beside it (see `_check`); what the search
reported about its proof is never consulted. The trusted statement comes from the task's
parameters and the shipped data, not from the experiment's files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field

from runs import GateResult, UntrustedFileError
from tools import SandboxFactory, TaskError, Workload
from tools.proofs import (
    CoqConfig,
    CoqProver,
    IsabelleBatch,
    LeanBatch,
    ProofProblem,
    ProofsSettings,
    ProofsWorkload,
    ProverUnavailableError,
    proof_file_name,
    resolve_problem,
)
from verifiers._gate import Gate, GateContext
from verifiers._options import GateOptions
from verifiers.proofs._assumptions import DEFAULT_ALLOWED_AXIOMS
from verifiers.proofs._check import GATE_COQ_ARGS, check_proof
from verifiers.proofs._isabelle_gate import check_isabelle_proof
from verifiers.proofs._lean_gate import check_lean_proof

MAX_PROOF_BYTES = 1 << 20


class ProofOptions(GateOptions):
    allowed_axioms: list[str] = Field(
        default_factory=list, description="fully qualified axiom names added to the default allow-list"
    )
    only_allowed_axioms: bool = Field(default=False, description="replace the default allow-list instead")
    timeout: float = Field(
        default=120.0, gt=0, le=3600, description="seconds for each prover run (coqc, coqchk, lean, the replay, build)"
    )
    allow_native_decide: bool = Field(
        default=False, description="Lean: accept native_decide (it trusts the compiler; Lean.ofReduceBool)"
    )

    def allowed(self) -> list[str]:
        """The axioms a proof may rest on under these options."""
        if self.only_allowed_axioms:
            return list(self.allowed_axioms)
        return [*DEFAULT_ALLOWED_AXIOMS, *self.allowed_axioms]


class ProofGate(Gate):
    """Options: see `ProofOptions`. Coq is the proofs workload's, else the one `LABGATE_COQC` names."""

    name = "proof-check"
    Options = ProofOptions
    options: ProofOptions

    def __init__(self, options: ProofOptions | None = None, workload: Workload | None = None) -> None:
        super().__init__(options, workload)
        chosen = workload.coq if isinstance(workload, ProofsWorkload) else CoqConfig.from_environment()
        self.coq = CoqConfig(coqc=chosen.coqc, timeout=chosen.timeout, limits=chosen.limits, args=GATE_COQ_ARGS)
        self.settings = workload.settings if isinstance(workload, ProofsWorkload) else ProofsSettings()

    def check(self, context: GateContext) -> GateResult:
        try:
            problem = resolve_problem(context.experiment.params, context.task.id)
        except TaskError as error:
            return self.verdict("reject", [f"no trusted statement for this experiment: {error}"])
        proof_file = proof_file_name(problem.prover)
        evidence = context.digests([proof_file])
        if not context.is_file(proof_file):
            why = context.outcome.error or "the search produced no proof file"
            return self.verdict("reject", [f"no {proof_file}: {why}"], evidence=evidence)
        try:
            source = context.read_text(proof_file, max_bytes=MAX_PROOF_BYTES)
        except UntrustedFileError as error:
            return self.verdict("reject", [f"{proof_file} was not read: {error}"], evidence=evidence)
        if context.sandbox_factory is None:
            return self.verdict("reject", ["the gate has no sandbox to run the prover in"], evidence=evidence)
        if problem.prover != "coq":
            return self._check_foreign(problem, source, context.sandbox_factory, evidence)
        options = self.options
        with tempfile.TemporaryDirectory(prefix="labgate-proof-gate-") as scratch:
            prover = CoqProver(Path(scratch), context.sandbox_factory, self.coq, file_stem="Check")
            try:
                verdict = check_proof(
                    problem, source, prover, allowed_axioms=options.allowed(), timeout=options.timeout
                )
            except ProverUnavailableError as error:
                return self.verdict("reject", [str(error)], evidence=evidence)
            finally:
                prover.close()
        names = ", ".join(entry.name for entry in verdict.assumptions) or "none"
        if verdict.decision == "accept":
            reasons = [
                f"Coq {prover.version()} accepts the proof of {problem.name} for the task's statement and coqchk "
                f"re-checks it; axioms: {names}"
            ]
        else:
            reasons = verdict.reasons
        return self.verdict(
            verdict.decision,
            reasons,
            evidence=evidence,
            metrics={
                "check_seconds": round(verdict.seconds, 3),
                "coqchk_seconds": round(verdict.checker_seconds, 3),
                "axioms": float(len(verdict.assumptions)),
            },
        )

    def _check_foreign(
        self, problem: ProofProblem, source: str, sandbox_factory: SandboxFactory, evidence: list[str]
    ) -> GateResult:
        """Lean 4 (`_lean_gate`) or Isabelle (`_isabelle_gate`): the same strictness as the Coq check."""
        options = self.options
        settings = self.settings
        with tempfile.TemporaryDirectory(prefix="labgate-proof-gate-") as scratch:
            try:
                if problem.prover == "lean4":
                    lean = LeanBatch(
                        Path(scratch),
                        sandbox_factory,
                        lean=settings.lean,
                        checker=settings.lean_checker,
                        project=settings.lean_project,
                    )
                    try:
                        verdict = check_lean_proof(
                            problem, source, lean, allow_native=options.allow_native_decide, timeout=options.timeout
                        )
                    finally:
                        lean.close()
                    accepted = (
                        f"Lean's kernel accepts the proof of {problem.name} for the task's statement, "
                        f"{Path(settings.lean_checker).name} replays the module; axioms: "
                        f"{', '.join(verdict.assumptions) or 'none'}"
                    )
                else:
                    isabelle = IsabelleBatch(Path(scratch), sandbox_factory, isabelle=settings.isabelle)
                    try:
                        verdict = check_isabelle_proof(problem, source, isabelle, timeout=options.timeout)
                    finally:
                        isabelle.close()
                    accepted = (
                        f"a clean Isabelle build (quick_and_dirty off) proves {problem.name} for the task's "
                        "statement with no oracle"
                    )
            except ProverUnavailableError as error:
                return self.verdict("reject", [str(error)], evidence=evidence)
        reasons = [accepted] if verdict.decision == "accept" else verdict.reasons
        return self.verdict(
            verdict.decision,
            reasons,
            evidence=evidence,
            metrics=(
                {
                    "check_seconds": round(verdict.seconds, 3),
                    "replay_seconds": round(verdict.checker_seconds, 3),
                    "axioms": float(len(verdict.assumptions)),
                }
                if problem.prover == "lean4"
                else {"check_seconds": round(verdict.seconds, 3)}
            ),
        )
