"""The proof gate: a proof counts only when the kernel accepts it for the catalog's statement.

The gate reads `proof.v` from the experiment directory and checks it itself with coqc in a fresh
directory (see `_check`); what the search reported about its proof is never consulted. The trusted
statement comes from the task's parameters and the shipped data, not from the experiment's files.
"""

from __future__ import annotations

import shutil

from runs import GateResult
from tools import TaskError
from tools.proofs import PROOF_FILE, CoqConfig, CoqProver, ProverUnavailableError, resolve_problem
from verifiers._gate import Gate, GateContext, register_gate
from verifiers.proofs._assumptions import DEFAULT_ALLOWED_AXIOMS
from verifiers.proofs._check import check_proof

GATE_COQ_ARGS = ("-q", "-w", "-require-in-module")


@register_gate
class ProofGate(Gate):
    """Options: `allowed_axioms` (fully qualified names added to the default allow-list),
    `only_allowed_axioms` (replace the default list instead), `timeout` (seconds, default 120)."""

    name = "proof-check"

    def check(self, context: GateContext) -> GateResult:
        try:
            problem = resolve_problem(context.experiment.params, context.task.id)
        except TaskError as error:
            return self.verdict("reject", [f"no trusted statement for this experiment: {error}"])
        proof_path = context.path(PROOF_FILE)
        evidence = context.digests([PROOF_FILE])
        if not proof_path.is_file():
            why = context.outcome.error or "the search produced no proof file"
            return self.verdict("reject", [f"no {PROOF_FILE}: {why}"], evidence=evidence)
        source = proof_path.read_text(errors="replace")
        if context.sandbox_factory is None:
            return self.verdict("reject", ["the gate has no sandbox to run the prover in"], evidence=evidence)
        options = context.options
        extra = [str(name) for name in options.get("allowed_axioms", [])]
        allowed = extra if options.get("only_allowed_axioms") else [*DEFAULT_ALLOWED_AXIOMS, *extra]
        workdir = context.directory / "gate" / self.name
        shutil.rmtree(workdir, ignore_errors=True)
        prover = CoqProver(workdir, context.sandbox_factory, CoqConfig(args=GATE_COQ_ARGS), file_stem="Check")
        try:
            verdict = check_proof(
                problem, source, prover, allowed_axioms=allowed, timeout=float(options.get("timeout", 120.0))
            )
        except ProverUnavailableError as error:
            return self.verdict("reject", [str(error)], evidence=evidence)
        finally:
            prover.close()
        names = ", ".join(entry.name for entry in verdict.assumptions) or "none"
        if verdict.decision == "accept":
            reasons = [
                f"Coq {prover.version()} accepts the proof of {problem.name} for the task's statement; axioms: {names}"
            ]
        else:
            reasons = verdict.reasons
        return self.verdict(
            verdict.decision,
            reasons,
            evidence=evidence,
            metrics={"check_seconds": round(verdict.seconds, 3), "axioms": float(len(verdict.assumptions))},
        )
