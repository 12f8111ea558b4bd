"""Kernel evolution: proposers (built-in and LLM), (1+1) and island/MAP-Elites loops, and the run driver."""

from agents._drivers import register_driver
from agents.kernel_search._builtin import BuiltinProposer
from agents.kernel_search._driver import build_proposer, drive_kernel_search, remeasure, run_search, speedup
from agents.kernel_search._llm import LLMProposer, ReplyError, apply_reply
from agents.kernel_search._loops import (
    Evaluator,
    Individual,
    Proposal,
    Proposer,
    ProposerExhaustedError,
    SearchBudget,
    islands,
    one_plus_one,
    select,
)

register_driver("kernels", drive_kernel_search)

__all__ = [
    "BuiltinProposer",
    "Evaluator",
    "Individual",
    "LLMProposer",
    "Proposal",
    "Proposer",
    "ProposerExhaustedError",
    "ReplyError",
    "SearchBudget",
    "apply_reply",
    "build_proposer",
    "drive_kernel_search",
    "islands",
    "one_plus_one",
    "remeasure",
    "run_search",
    "select",
    "speedup",
]
