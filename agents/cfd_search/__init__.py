"""Proposers of CFD hypotheses: a derivative-free optimiser (built in) or an LLM with rationales."""

from agents.cfd_search._cmaes import CmaesProposer
from agents.cfd_search._history import Observation, search_history
from agents.cfd_search._llm import Hypothesis, HypothesisBatch, LlmHypothesisProposer, batch_schema, violations
from agents.cfd_search._propose import CfdSearchProposer, SearchProposer, SearchRevisionPolicy

__all__ = [
    "CfdSearchProposer",
    "CmaesProposer",
    "Hypothesis",
    "HypothesisBatch",
    "LlmHypothesisProposer",
    "Observation",
    "SearchProposer",
    "SearchRevisionPolicy",
    "batch_schema",
    "search_history",
    "violations",
]
