"""Gates for proofs: the kernel check against the catalog's statement, with an axiom allow-list and
an independent re-check by coqchk."""

from verifiers.proofs._assumptions import (
    DEFAULT_ALLOWED_AXIOMS,
    Assumption,
    is_allowed,
    judge_assumptions,
    parse_assumptions,
)
from verifiers.proofs._check import (
    GATE_COQ_ARGS,
    GATE_LIBRARY,
    CheckFile,
    ProofVerdict,
    build_check_file,
    check_proof,
    kernel_check,
)
from verifiers.proofs._checker import CheckerSummary, judge_checker, parse_checker_summary
from verifiers.proofs._foreign_verdict import ForeignVerdict
from verifiers.proofs._gate import ProofGate, ProofOptions
from verifiers.proofs._isabelle_gate import SESSION as ISABELLE_GATE_SESSION
from verifiers.proofs._isabelle_gate import build_isabelle_check, check_isabelle_proof, lint_isabelle
from verifiers.proofs._lean_gate import (
    LEAN_ALLOWED_AXIOMS,
    build_lean_check,
    check_lean_proof,
    lint_lean,
    parse_axioms,
)
from verifiers.proofs._lint import ProofFileReport, lint_proof_file
from verifiers.proofs._vernac import Attribute, Command, CommandFormatError, read_command

__all__ = [
    "DEFAULT_ALLOWED_AXIOMS",
    "GATE_COQ_ARGS",
    "GATE_LIBRARY",
    "ISABELLE_GATE_SESSION",
    "LEAN_ALLOWED_AXIOMS",
    "Assumption",
    "Attribute",
    "CheckFile",
    "CheckerSummary",
    "Command",
    "CommandFormatError",
    "ForeignVerdict",
    "ProofFileReport",
    "ProofGate",
    "ProofOptions",
    "ProofVerdict",
    "build_check_file",
    "build_isabelle_check",
    "build_lean_check",
    "check_isabelle_proof",
    "check_lean_proof",
    "check_proof",
    "is_allowed",
    "judge_assumptions",
    "judge_checker",
    "kernel_check",
    "lint_isabelle",
    "lint_lean",
    "lint_proof_file",
    "parse_assumptions",
    "parse_axioms",
    "parse_checker_summary",
    "read_command",
]
