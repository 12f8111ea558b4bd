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
from tools import TaskError, Workload
from tools.proofs import PROOF_FILE, CoqConfig, CoqProver, ProofsWorkload, ProverUnavailableError, resolve_problem
from verifiers._gate import Gate, GateContext
from verifiers._options import GateOptions
from verifiers.proofs._assumptions import DEFAULT_ALLOWED_AXIOMS
from verifiers.proofs._check import GATE_COQ_ARGS, check_proof

MAX_PROOF_BYTES = 1 << 20


class ProofOptions(GateOptions):
    allowed_axioms: list[str] = Field(
        default_factory=list, description="fully qualified axiom names added to the default allow-list"
    )
    only_allowed_axioms: bool = Field(default=False, description="replace the default allow-list instead")
    timeout: float = Field(default=120.0, gt=0, le=3600, description="seconds for coqc and for coqchk, each")

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

    def check(self, context: GateContext) -> GateResult:
        try:
            problem = resolve_problem(context.experiment.params, context.task.id)
        except TaskError as error:
            return self.verdict("reject", [f"no trusted statement for this experiment: {error}"])
        evidence = context.digests([PROOF_FILE])
        if not context.is_file(PROOF_FILE):
            why = context.outcome.error or "the search produced no proof file"
            return self.verdict("reject", [f"no {PROOF_FILE}: {why}"], evidence=evidence)
        try:
            source = context.read_text(PROOF_FILE, max_bytes=MAX_PROOF_BYTES)
        except UntrustedFileError as error:
            return self.verdict("reject", [f"{PROOF_FILE} was not read: {error}"], evidence=evidence)
        if context.sandbox_factory is None:
            return self.verdict("reject", ["the gate has no sandbox to run the prover in"], evidence=evidence)
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
