"""Kernel evolution: proposers (built-in rewrites and LLM), (1+1) and island/MAP-Elites loops, the workload's proposer.

`KernelSearchProposer` is what runs register for the `kernels` workload (entry point `labgate.proposers`);
`Proposer` here is the narrower interface of what proposes one kernel candidate inside a search.
"""

from agents.kernel_search._builtin import BuiltinProposer
from agents.kernel_search._driver import (
    KernelSearchProposer,
    SearchStoppedError,
    build_proposer,
    drive_kernel_search,
    remeasure,
    run_search,
    speedup,
)
from agents.kernel_search._library import Variant, variant_of, variants_for
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
from agents.kernel_search._transforms import Rewrite, Transformation, transformations

__all__ = [
    "BuiltinProposer",
    "Evaluator",
    "Individual",
    "KernelSearchProposer",
    "LLMProposer",
    "Proposal",
    "Proposer",
    "ProposerExhaustedError",
    "ReplyError",
    "Rewrite",
    "SearchBudget",
    "SearchStoppedError",
    "Transformation",
    "Variant",
    "apply_reply",
    "build_proposer",
    "drive_kernel_search",
    "islands",
    "one_plus_one",
    "remeasure",
    "run_search",
    "select",
    "speedup",
    "transformations",
    "variant_of",
    "variants_for",
]
