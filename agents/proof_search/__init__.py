"""Proof search: tool correction, conjecture correction, the built-in proposer and the `proofs` proposer."""

from agents.proof_search._automation import AUTOMATION, AutomationTactic, StepFix, ToolCorrector, probe_text
from agents.proof_search._conjecture import SYSTEM_PROMPT, ConjectureCorrector, Failure
from agents.proof_search._dialects import (
    ISABELLE_AUTOMATION,
    ISABELLE_SKELETONS,
    LEAN_AUTOMATION,
    LEAN_SKELETONS,
    isabelle_winner,
    lean_probe_step,
    lean_winner,
)
from agents.proof_search._driver import ProofSearchProposer, budget_from, drive_proof
from agents.proof_search._memory import (
    EXCLUDE_ENV,
    MEMORY_ENV,
    ONLY_ENV,
    RETRIEVE_ENV,
    MemoryEntry,
    ProofMemory,
    SplitFilter,
    goal_features,
    memory_dir,
)
from agents.proof_search._proposer import SKELETONS, BuiltinProposer
from agents.proof_search._script import (
    AUTOMATION_IMPORTS,
    HOLE,
    ProofScript,
    RenderedScript,
    is_bullet,
    script_from_text,
)
from agents.proof_search._search import Diagnosis, ProofSearch, SearchBudget, SearchResult, diagnose

__all__ = [
    "AUTOMATION",
    "AUTOMATION_IMPORTS",
    "EXCLUDE_ENV",
    "HOLE",
    "ISABELLE_AUTOMATION",
    "ISABELLE_SKELETONS",
    "LEAN_AUTOMATION",
    "LEAN_SKELETONS",
    "MEMORY_ENV",
    "ONLY_ENV",
    "RETRIEVE_ENV",
    "SKELETONS",
    "SYSTEM_PROMPT",
    "AutomationTactic",
    "BuiltinProposer",
    "ConjectureCorrector",
    "Diagnosis",
    "Failure",
    "MemoryEntry",
    "ProofMemory",
    "ProofScript",
    "ProofSearch",
    "ProofSearchProposer",
    "RenderedScript",
    "SearchBudget",
    "SearchResult",
    "SplitFilter",
    "StepFix",
    "ToolCorrector",
    "budget_from",
    "diagnose",
    "drive_proof",
    "goal_features",
    "is_bullet",
    "isabelle_winner",
    "lean_probe_step",
    "lean_winner",
    "memory_dir",
    "probe_text",
    "script_from_text",
]
