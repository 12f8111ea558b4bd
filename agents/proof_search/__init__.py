"""Proof search: tool correction, conjecture correction, the built-in proposer and the `proofs` proposer."""

from agents.proof_search._automation import AUTOMATION, AutomationTactic, StepFix, ToolCorrector, probe_text
from agents.proof_search._conjecture import SYSTEM_PROMPT, ConjectureCorrector, Failure
from agents.proof_search._driver import ProofSearchProposer, budget_from, drive_proof
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
    "HOLE",
    "SKELETONS",
    "SYSTEM_PROMPT",
    "AutomationTactic",
    "BuiltinProposer",
    "ConjectureCorrector",
    "Diagnosis",
    "Failure",
    "ProofScript",
    "ProofSearch",
    "ProofSearchProposer",
    "RenderedScript",
    "SearchBudget",
    "SearchResult",
    "StepFix",
    "ToolCorrector",
    "budget_from",
    "diagnose",
    "drive_proof",
    "is_bullet",
    "probe_text",
    "script_from_text",
]
