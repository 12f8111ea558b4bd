"""Verifier gates: nothing an agent produces counts until every gate of its task accepts it."""

from verifiers import cfd, kernels, proofs
from verifiers._deliverables import DeliverablesGate, field_problem, image_problem, table_problem
from verifiers._gate import (
    ExperimentRunner,
    Gate,
    GateContext,
    UnknownGateError,
    blocking_verdict,
    gate_class,
    gate_names,
    gate_options,
    get_gate,
    register_gate,
    run_gate,
    validate_gate_options,
)
from verifiers._options import GateOptions, GateOptionsError
from verifiers._vision_client import VISION_INCONCLUSIVE, VisionJudge, VisionOutcome, VisionVerdict, consult_vision
from verifiers._writeup import ExperimentFacts, VerdictFacts, WriteupRecord, check_prose, problem_kinds
from verifiers._writeup_text import numbers_in

__all__ = [
    "VISION_INCONCLUSIVE",
    "DeliverablesGate",
    "ExperimentFacts",
    "ExperimentRunner",
    "Gate",
    "GateContext",
    "GateOptions",
    "GateOptionsError",
    "UnknownGateError",
    "VerdictFacts",
    "VisionJudge",
    "VisionOutcome",
    "VisionVerdict",
    "WriteupRecord",
    "blocking_verdict",
    "cfd",
    "check_prose",
    "consult_vision",
    "field_problem",
    "gate_class",
    "gate_names",
    "gate_options",
    "get_gate",
    "image_problem",
    "kernels",
    "numbers_in",
    "problem_kinds",
    "proofs",
    "register_gate",
    "run_gate",
    "table_problem",
    "validate_gate_options",
]
