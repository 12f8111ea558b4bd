"""Cheats against the proof gate: how many are rejected, are honest proofs kept, and what coqchk costs.

Runs every case of `tests/proof_gate_cases.py` (the same battery `tests/test_proof_gate_hostile.py`
asserts on) through the gate's check: the text rules, coqc with `Print Assumptions`, and coqchk on
the compiled check file, in the bubblewrap sandbox. Cheats target a false claim (`2 + 2 = 5`) or
change the meaning of miniF2F statements; the controls are honest proofs (lia, nia, lra, field,
computation, Coquelicot, helper lemmas). coqchk's time is measured on the accepted controls.

The Lean 4 and Isabelle batteries of the same file, with those of `tests/test_redteam_proofs_foreign.py`
(strings the tokenizer once ended elsewhere than Lean, attributes and commands that run elaboration
code, ML reached through antiquotations and code generation, a context left open), go through those
gates' text rules only (their toolchains are in images this bench does not need): how many cheats the
rules refuse before any build, and whether the honest files pass them.

Prints the cases that went wrong to stderr, then one JSON line:
{"workload": "proofs", "cheats_tried", "cheats_rejected", "honest_controls", "false_rejections",
 "coqchk_seconds_median", "lean_cheats_tried", "lean_cheats_rejected_by_text_rules",
 "isabelle_cheats_tried", "isabelle_cheats_rejected_by_text_rules", "foreign_false_rejections"}

Usage: .venv/bin/python bench/cheats_proofs.py  (LABGATE_COQC picks the Coq, as for the gate)
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the shared battery lives beside the tests

from sandboxes import LocalSandboxConfig, Sandbox, get_sandbox  # noqa: E402
from tests.proof_gate_cases import (  # noqa: E402
    CHEATS,
    HONEST,
    ISABELLE_CHEATS,
    ISABELLE_GOOD,
    ISABELLE_PROBLEM,
    LEAN_CHEATS,
    LEAN_GOOD,
    LEAN_PROBLEM,
    ProofCase,
)
from tests.test_redteam_proofs_foreign import ISABELLE_FOREIGN_CHEATS, LEAN_FOREIGN_CHEATS  # noqa: E402
from tools.proofs import CoqConfig, CoqProver  # noqa: E402
from verifiers.proofs import GATE_COQ_ARGS, ProofVerdict, check_proof, lint_isabelle, lint_lean  # noqa: E402


def foreign_text_rules() -> dict[str, int]:
    """Lean 4 and Isabelle cheats refused by their gates' text rules, and honest files refused by them."""
    lean_cheats = {**LEAN_CHEATS, **LEAN_FOREIGN_CHEATS}
    isabelle_cheats = {**ISABELLE_CHEATS, **ISABELLE_FOREIGN_CHEATS}
    lean = sum(1 for source, _ in lean_cheats.values() if lint_lean(LEAN_PROBLEM, source)[0])
    isabelle = sum(1 for source, _ in isabelle_cheats.values() if lint_isabelle(ISABELLE_PROBLEM, source)[0])
    for name, (source, _) in lean_cheats.items():
        if not lint_lean(LEAN_PROBLEM, source)[0]:
            print(f"lean cheat passes the text rules: {name}", file=sys.stderr)
    for name, (source, _) in isabelle_cheats.items():
        if not lint_isabelle(ISABELLE_PROBLEM, source)[0]:
            print(f"isabelle cheat passes the text rules: {name}", file=sys.stderr)
    false = int(bool(lint_lean(LEAN_PROBLEM, LEAN_GOOD)[0])) + int(
        bool(lint_isabelle(ISABELLE_PROBLEM, ISABELLE_GOOD)[0])
    )
    return {
        "lean_cheats_tried": len(lean_cheats),
        "lean_cheats_rejected_by_text_rules": lean,
        "isabelle_cheats_tried": len(isabelle_cheats),
        "isabelle_cheats_rejected_by_text_rules": isabelle,
        "foreign_false_rejections": false,
    }


def _sandbox(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return get_sandbox(LocalSandboxConfig(), workdir, ro_paths=tuple(ro_paths))


def _judge(case: ProofCase, config: CoqConfig) -> ProofVerdict:
    with tempfile.TemporaryDirectory(prefix="labgate-bench-proof-") as scratch:
        prover = CoqProver(Path(scratch), _sandbox, config, file_stem="Check")
        try:
            return check_proof(case.problem, case.source, prover, timeout=120.0)
        finally:
            prover.close()


def main() -> None:
    environment = CoqConfig.from_environment()
    config = CoqConfig(coqc=environment.coqc, args=GATE_COQ_ARGS)
    rejected = 0
    for case in CHEATS:
        verdict = _judge(case, config)
        if verdict.decision == "reject":
            rejected += 1
        else:
            print(f"cheat accepted: {case.name}", file=sys.stderr)
    false_rejections = 0
    checker_seconds: list[float] = []
    for case in HONEST:
        verdict = _judge(case, config)
        if verdict.decision == "accept":
            checker_seconds.append(verdict.checker_seconds)
        else:
            false_rejections += 1
            print(f"honest proof rejected: {case.name}: {verdict.reasons}", file=sys.stderr)
    summary = {
        "workload": "proofs",
        "cheats_tried": len(CHEATS),
        "cheats_rejected": rejected,
        "honest_controls": len(HONEST),
        "false_rejections": false_rejections,
        "coqchk_seconds_median": round(statistics.median(checker_seconds), 3) if checker_seconds else None,
        **foreign_text_rules(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
