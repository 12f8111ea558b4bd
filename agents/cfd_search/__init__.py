"""Proposers of CFD hypotheses (a derivative-free optimiser, built in, or an LLM with rationales), and the
watcher that announces a running solver's progress."""

from agents.cfd_search._cmaes import CmaesProposer
from agents.cfd_search._history import Observation, search_history
from agents.cfd_search._llm import Hypothesis, HypothesisBatch, LlmHypothesisProposer, batch_schema
from agents.cfd_search._llm_base import violations
from agents.cfd_search._model_llm import LlmModelProposer, ModelEdit, ModelProposal
from agents.cfd_search._progress import PROGRESS_SECONDS, SolverWatcher, solver_log_of, watch_solver
from agents.cfd_search._propose import CfdSearchProposer, SearchProposer, SearchRevisionPolicy

__all__ = [
    "PROGRESS_SECONDS",
    "CfdSearchProposer",
    "CmaesProposer",
    "Hypothesis",
    "HypothesisBatch",
    "LlmHypothesisProposer",
    "LlmModelProposer",
    "ModelEdit",
    "ModelProposal",
    "Observation",
    "SearchProposer",
    "SearchRevisionPolicy",
    "SolverWatcher",
    "batch_schema",
    "search_history",
    "solver_log_of",
    "violations",
    "watch_solver",
]
