"""The proof gate against files that make its own reading, not the prover, run long or print without end.

A red-team pass found three, each a clean verdict in the end but far past the gate's limits: a failing tactic
whose message carried 300,000 of the file's own blank lines (coqc done in seconds, then the reader looked
ahead from every blank line: an estimated 40 minutes), 20,000 `#[local] Hint` warnings on a 1 MB file (the
reader re-split the whole source for each: an honest proof accepted after 4.6 minutes), and 100,000 refused
sentences (two reasons each: a 12.6 MB verdict). The reader is now linear, and a verdict keeps at most
`MAX_REASONS` reasons of `MAX_REASON_CHARS` characters, for every gate (`runs.GateResult`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runs import MAX_REASON_CHARS, MAX_REASONS, GateResult
from tests.conftest import agent, within_seconds
from tools.proofs import parse_diagnostics


def test_a_message_carrying_the_files_blank_lines_is_read_at_once() -> None:
    blank = 300_000
    output = 'File "Check.v", line 7, characters 2-3:\nError: Tactic failure: x' + "\n" * blank + 'y".\n'
    with within_seconds(20):
        found = parse_diagnostics(output, "\n" * 6 + '  fail "x' + "\n" * blank + 'y".\n')
    assert [(d.line, d.column, d.severity) for d in found] == [(7, 2, "error")]
    assert found[0].message == 'Tactic failure: x y".'


def test_a_warning_for_every_sentence_of_a_long_file_is_read_at_once() -> None:
    warnings = 20_000
    source = "#[local] Hint Resolve I.\n" * warnings + "\n" * 500_000
    output = "".join(
        f'File "Check.v", line {line}, characters 0-24:\nWarning: The default value for hint locality\n'
        for line in range(1, warnings + 1)
    )
    with within_seconds(20):
        found = parse_diagnostics(output, source)
    assert len(found) == warnings
    assert {(d.column, d.end_line - d.line, d.end_column, d.severity) for d in found} == {(0, 0, 24, "warning")}
    assert found[-1].line == warnings


def test_columns_count_characters_and_spans_run_across_lines() -> None:
    source = 'Lemma é : True.\nProof. idtac "ξ".\n  exact I. Qed.\n'
    # "idtac" starts at byte 7 of line 2; the span to "exact" ends 4 bytes into line 3 past the two spaces
    line_two = len('Proof. idtac "ξ".\n'.encode())
    output = f'File "Check.v", line 2, characters 7-{line_two + 4}:\nError: no\n'
    (found,) = parse_diagnostics(output, source)
    assert (found.line, found.column, found.end_line, found.end_column) == (2, 7, 3, 4)
    (past,) = parse_diagnostics('File "Check.v", line 9, characters 3-5:\nError: past the end\n', source)
    assert (past.line, past.column, past.end_line, past.end_column) == (9, 3, 9, 5)


def test_a_verdict_keeps_a_bounded_number_of_bounded_reasons() -> None:
    result = GateResult(gate="g", decision="reject", reasons=[f"reason {i}" for i in range(1000)] + ["x" * 10**6])
    assert len(result.reasons) == MAX_REASONS
    assert result.reasons[: MAX_REASONS - 1] == [f"reason {i}" for i in range(MAX_REASONS - 1)]
    assert (
        result.reasons[-1] == f"... and {1001 - (MAX_REASONS - 1)} more reasons (the first {MAX_REASONS - 1} are shown)"
    )
    long = GateResult(gate="g", decision="reject", reasons=["y" * 10**6])
    assert len(long.reasons[0]) <= MAX_REASON_CHARS and long.reasons[0].endswith(" more characters)")
    assert long.reasons[0].startswith("y" * (MAX_REASON_CHARS - 40))
    for verdict in (result, long):  # read back from the store, a verdict is the one written
        assert GateResult.model_validate_json(verdict.model_dump_json()) == verdict
    few = ["a" * MAX_REASON_CHARS] * MAX_REASONS
    assert GateResult(gate="g", decision="reject", reasons=few).reasons == few


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_file_of_refused_sentences_gets_a_short_verdict(tmp_path: Path) -> None:
    """Through `agent check`: 5,000 `Admitted.` lines, two reasons each, printed and stored as 40."""
    proof = tmp_path / "flood.v"
    proof.write_text("Require Import Reals.\n" + "Admitted.\n" * 5000)
    result = agent("check", "proofs/minif2f-valid/mathd_algebra_10", str(proof), "--json", home=tmp_path / "home")
    assert result.returncode == 1, result.stderr
    (verdict,) = json.loads(result.stdout)["verdicts"]
    assert verdict["decision"] == "reject" and len(verdict["reasons"]) == MAX_REASONS
    assert "`Admitted`" in verdict["reasons"][0]
    counted = re.fullmatch(r"\.\.\. and (\d+) more reasons \(the first 39 are shown\)", verdict["reasons"][-1])
    assert counted is not None and int(counted.group(1)) >= 10_000 - 39, verdict["reasons"][-1]
    assert len(result.stdout) < 20_000
