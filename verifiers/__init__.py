"""Verifier gates: nothing an agent produces counts until every gate of its task accepts it.

Gates are installed through the `labgate.gates` entry points (see `tools._plugins`); `judge` applies a
task's gates to one experiment, the same way for a run and for `agent check`.
"""

from verifiers._deliverables import DeliverablesGate, field_problem, image_problem, table_problem
from verifiers._gate import (
    ExperimentRunner,
    Gate,
    GateContext,
    StandIn,
    UnknownGateError,
    blocking_verdict,
    gate_class,
    gate_names,
    gate_options,
    get_gate,
    run_gate,
    validate_gate_options,
)
from verifiers._judge import Judgement, JudgementDecision, build_gates, gate_label, judge
from verifiers._options import GateOptions, GateOptionsError
from verifiers._vision_client import VISION_INCONCLUSIVE, VisionJudge, VisionOutcome, VisionVerdict, consult_vision
from verifiers._writeup import ExperimentFacts, VerdictFacts, WriteupRecord, check_prose, problem_kinds
from verifiers._writeup_text import numbers_in, paragraphs

__all__ = [
    "VISION_INCONCLUSIVE",
    "DeliverablesGate",
    "ExperimentFacts",
    "ExperimentRunner",
    "Gate",
    "GateContext",
    "GateOptions",
    "GateOptionsError",
    "Judgement",
    "JudgementDecision",
    "StandIn",
    "UnknownGateError",
    "VerdictFacts",
    "VisionJudge",
    "VisionOutcome",
    "VisionVerdict",
    "WriteupRecord",
    "blocking_verdict",
    "build_gates",
    "check_prose",
    "consult_vision",
    "field_problem",
    "gate_class",
    "gate_label",
    "gate_names",
    "gate_options",
    "get_gate",
    "image_problem",
    "judge",
    "numbers_in",
    "paragraphs",
    "problem_kinds",
    "run_gate",
    "table_problem",
    "validate_gate_options",
]
