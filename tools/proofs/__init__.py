"""The proof workload: a prover interface with a Coq backend, diagnostics, miniF2F as data, tasks."""

from tools.proofs._coq import COQ_LIMITS, CoqConfig, CoqProver, coq_version, cut_before, error_offset
from tools.proofs._diagnostics import Diagnostic, Goal, GoalState, Severity, parse_diagnostics, parse_goals
from tools.proofs._isabelle import IsabelleError, IsabelleServer, isabelle_diagnostics, parse_isabelle_state
from tools.proofs._lean import LeanRepl, lean_diagnostics, parse_lean_goals
from tools.proofs._minif2f import DATA_DIR, SPLITS, excluded, exclusion_reason, load_split, problem_id, set_name
from tools.proofs._problems import (
    ASSUMPTION_KEYWORDS,
    THEOREM_KEYWORDS,
    ProblemFormatError,
    ProofProblem,
    Statement,
    declared_names,
    parse_statement,
    problem_from_text,
)
from tools.proofs._prover import CheckResult, Prover, ProverUnavailableError
from tools.proofs._sentences import (
    Sentence,
    UnterminatedSourceError,
    blank_literals,
    line_column,
    normalize,
    offset_of,
    split_attributes,
    split_sentences,
    strip_attributes,
    strip_comments,
)
from tools.proofs._session import CoqSession, SessionDiedError
from tools.proofs._tasks import SETS, ProofParams, parse_params, resolve_problem
from tools.proofs._workload import PROOF_FILE, SEARCH_LOG, ProofsSettings, ProofsWorkload, proof_files

__all__ = [
    "ASSUMPTION_KEYWORDS",
    "COQ_LIMITS",
    "DATA_DIR",
    "PROOF_FILE",
    "SEARCH_LOG",
    "SETS",
    "SPLITS",
    "THEOREM_KEYWORDS",
    "CheckResult",
    "CoqConfig",
    "CoqProver",
    "CoqSession",
    "Diagnostic",
    "Goal",
    "GoalState",
    "IsabelleError",
    "IsabelleServer",
    "LeanRepl",
    "ProblemFormatError",
    "ProofParams",
    "ProofProblem",
    "ProofsSettings",
    "ProofsWorkload",
    "Prover",
    "ProverUnavailableError",
    "Sentence",
    "SessionDiedError",
    "Severity",
    "Statement",
    "UnterminatedSourceError",
    "blank_literals",
    "coq_version",
    "cut_before",
    "declared_names",
    "error_offset",
    "excluded",
    "exclusion_reason",
    "isabelle_diagnostics",
    "lean_diagnostics",
    "line_column",
    "load_split",
    "normalize",
    "offset_of",
    "parse_diagnostics",
    "parse_goals",
    "parse_isabelle_state",
    "parse_lean_goals",
    "parse_params",
    "parse_statement",
    "problem_from_text",
    "problem_id",
    "proof_files",
    "resolve_problem",
    "set_name",
    "split_attributes",
    "split_sentences",
    "strip_attributes",
    "strip_comments",
]
