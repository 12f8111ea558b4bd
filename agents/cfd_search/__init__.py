"""Proposers of CFD hypotheses: a derivative-free optimiser (built in) or an LLM with rationales."""

from agents.cfd_search._cmaes import CmaesProposer
from agents.cfd_search._history import Observation, search_history
from agents.cfd_search._llm import Hypothesis, HypothesisBatch, LlmHypothesisProposer
from agents.cfd_search._propose import SearchProposer, SearchRevisionPolicy, search_policy

__all__ = [
    "CmaesProposer",
    "Hypothesis",
    "HypothesisBatch",
    "LlmHypothesisProposer",
    "Observation",
    "SearchProposer",
    "SearchRevisionPolicy",
    "search_history",
    "search_policy",
]
