"""Gates for proofs: the kernel check against the catalog's statement, with an axiom allow-list."""

from verifiers.proofs._assumptions import (
    DEFAULT_ALLOWED_AXIOMS,
    Assumption,
    is_allowed,
    judge_assumptions,
    parse_assumptions,
)
from verifiers.proofs._check import CheckFile, ProofVerdict, build_check_file, check_proof
from verifiers.proofs._gate import GATE_COQ_ARGS, ProofGate
from verifiers.proofs._lint import ProofFileReport, lint_proof_file

__all__ = [
    "DEFAULT_ALLOWED_AXIOMS",
    "GATE_COQ_ARGS",
    "Assumption",
    "CheckFile",
    "ProofFileReport",
    "ProofGate",
    "ProofVerdict",
    "build_check_file",
    "check_proof",
    "is_allowed",
    "judge_assumptions",
    "lint_proof_file",
    "parse_assumptions",
]
