"""Verifier gates: nothing an agent produces counts until every gate of its task accepts it."""

from verifiers import cfd, kernels, proofs
from verifiers._deliverables import DeliverablesGate, field_problem, image_problem, table_problem
from verifiers._gate import (
    ExperimentRunner,
    Gate,
    GateContext,
    UnknownGateError,
    blocking_verdict,
    gate_names,
    get_gate,
    register_gate,
    run_gate,
)
from verifiers._vision_client import VisionJudge, VisionVerdict
from verifiers._writeup import check_prose, numbers_in

__all__ = [
    "DeliverablesGate",
    "ExperimentRunner",
    "Gate",
    "GateContext",
    "UnknownGateError",
    "VisionJudge",
    "VisionVerdict",
    "blocking_verdict",
    "cfd",
    "check_prose",
    "field_problem",
    "gate_names",
    "get_gate",
    "image_problem",
    "kernels",
    "numbers_in",
    "proofs",
    "register_gate",
    "run_gate",
    "table_problem",
]
