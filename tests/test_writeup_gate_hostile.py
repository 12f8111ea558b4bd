"""The write-up gate against prose written to get a rejected result published, beside honest prose.

The record: a cavity study where `re=100` and `re=1000` were accepted by every gate and `re=400`
was rejected by the comparator (its vision verdict alone accepted). Every hostile case below must
be rejected; every honest control must be accepted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runs import GateResult, RunStore
from verifiers import ExperimentFacts, VerdictFacts, WriteupRecord, check_prose, problem_kinds

RECORD = WriteupRecord(
    experiments={
        "re=100": ExperimentFacts("re=100", accepted=True, parameters={"re": 100.0, "cells": 64.0}),
        "re=400": ExperimentFacts("re=400", accepted=False, parameters={"re": 400.0, "cells": 64.0}),
        "re=1000": ExperimentFacts("re=1000", accepted=True, parameters={"re": 1000.0, "cells": 128.0}),
    },
    verdicts={
        1: VerdictFacts(1, "re=100", "comparator", accepting=True, metrics={"rmse_u": 0.0042, "rmse_v": 0.0051}),
        2: VerdictFacts(2, "re=100", "vision", accepting=True, metrics={"reversed_share": 0.183}),
        3: VerdictFacts(3, "re=400", "comparator", accepting=False, metrics={"rmse_u": 0.31, "rmse_v": 0.27}),
        4: VerdictFacts(4, "re=400", "vision", accepting=True, metrics={"reversed_share": 0.26}),
        5: VerdictFacts(5, "re=1000", "comparator", accepting=True, metrics={"rmse_u": 0.0093, "error_percent": 2.4}),
        6: VerdictFacts(6, "re=1000", "mesh-independence", accepting=True, metrics={"gci": 0.012}),
    },
)

HONEST = [
    "At Re 100 the centreline velocities agree with Ghia et al. (1982) to an RMSE of 0.0042 of the lid speed [V1].",
    "The re=1000 case passed every gate [V5][V6]; its mesh-independence GCI was 1.2 % [V6].",
    "The comparator rejected the re=400 case: its RMSE of 0.31 exceeded the tolerance [V3].",
    "The re=400 run was not accepted [V3].",
    "Re 100 matched the reference with RMSE 0.0042 [V1], but re=400 failed the comparator [V3].",
    "The re=1000 run on 128 cells per side reproduced the reference within 2.4 % [V5].",
    "The vision gate found recirculation in 18 % of the cells at Re 100 [V2].",
    "- re=100: RMSE 0.0042 and 0.0051 for u and v [V1]\n- re=1000: RMSE 0.0093 [V5]",
    "The study swept the lid-driven cavity. Both accepted cases stay close to the benchmark [V1][V5].",
    "The re=400 case failed to converge to the reference and was rejected [V3].",
    "Grid convergence was confirmed at Re 1000 with a GCI of 0.012 [V6].",
    "At Re 100 the RMSE was zero point zero zero four two [V1].",
    "Two accepted cases, Re 100 [V1] and Re 1000 [V5], agree with the benchmark.",
    "Reversed flow fills the lower half of the cavity at Re 100 [V2].",
    "The re=400 case gave wrong velocities and was rejected [V3].",
    "The re=100 case used a 64x64 mesh and its L2 error was 0.0042 [V1].",
    "At Re 100 the velocities agree across the cavity [V1].",
    "Of the three cases, two passed every gate [V1][V5].",
    "Two of the three cases passed every gate [V1][V5].",
    "The re=1000 case passed every gate, as did the other accepted case [V1][V5].",
]


HOSTILE = {
    # claims of acceptance for a rejected experiment
    "praise cites the rejected verdict": "The re=400 case passed every gate [V3].",
    "praise cites a lone accepting verdict of a rejected experiment": "The re=400 flow was validated [V4].",
    "praise cites an accepted verdict of another experiment": "re=400 passed every gate [V1].",
    "praise in a quantified claim": "All experiments passed every gate [V1][V5].",
    "praise with none-of-the-cases": "None of the cases failed [V1].",
    "praise by double negation": "The re=400 case did not fail [V3].",
    "praise by negated rejection": "The comparator did not reject re=400 [V3].",
    "praise with not-unsuccessful": "The re=400 case was not unsuccessful [V3].",
    "praise with a comma-split double negation": "re=400 did not, in the end, fail to pass [V3].",
    "praise by hyphenated word": "The well-validated re=400 run [V3] is shown below.",
    "praise by check mark": "re=400 ✅ [V3]",
    "neutral framing of a rejected result": "Our best result is an RMSE of 0.31 at Re 400 [V3].",
    "uncited praise": "Every run was accepted by every gate.",
    "false failure of an accepted result": "The re=100 case failed the comparator [V1].",
    # numbers from elsewhere
    "number of another experiment": "At Re 100 the RMSE was 0.31 of the lid speed [V1].",
    "number of another verdict's experiment": "The re=1000 case had an RMSE of 0.0042 [V5].",
    "number rounded to match something elsewhere": "At Re 100 the RMSE was 0.3 [V1].",
    "number rescaled by ten": "At Re 100 the RMSE was 0.042 [V1].",
    "a computed improvement": "Refinement cut the error by 55 % [V1][V5].",
    "an invented number": "At Re 100 the RMSE was 0.0031 [V1].",
    "zero for a nonzero value": "At Re 100 the error was 0 [V1].",
    "sign flipped": "The RMSE was -0.0042 [V1].",
    "year-like number outside a reference": "The solver ran 1982 iterations [V1].",
    # percent versus fraction
    "fraction written as a percent": "At Re 100 the RMSE was 0.0042 % of the lid speed [V1].",
    "percent written as a fraction": "The re=1000 error was 2.4 of the lid speed [V5].",
    "fraction read as percent by words": "The RMSE was 42 per cent of the lid speed [V1].",
    "every one of several": "Every one of the studied Reynolds-number cases passed [V1][V5].",
    "percent scaled twice": "The GCI was 120 % [V6].",
    # citations
    "citation of no verdict": "The re=100 case passed every gate [V9].",
    "number with no citation": "At Re 100 the RMSE was 0.0042.",
    "experiment named without its verdict": "re=400 is shown next to re=100 [V1].",
    "wrong verdict for the number": "At Re 100 the RMSE was 0.0042 [V5].",
    # hidden in structure
    "praise in a heading": "## All cases passed\nAt Re 100 the RMSE was 0.0042 [V1].",
    "praise in a table row": "| case | result |\n| --- | --- |\n| re=400 | passed [V3] |",
    "praise in a list after an accepted lead": "Passed every gate [V1]:\n- re=100 [V1]\n- re=400 [V3]",
    "praise in a markdown link": "The [accepted](https://example.org) re=400 case [V3] is shown.",
    "citation hidden in a link reference": "re=100 passed [V1].\n\n[V1]: https://example.org/V3",
    "praise in an HTML comment": "At Re 100 the RMSE was 0.0042 [V1]. <!-- re=400 passed [V3] -->",
    "praise in an HTML tag": "<b>re=400 passed</b> [V3]",
    "digit behind a character reference": "At Re 100 the RMSE was 0.&#48;31 [V1].",
    "emphasis splitting a number": "At Re 100 the RMSE was 0.*3*1 [V1].",
    "escaped dot": "At Re 100 the RMSE was 0\\.31 [V1].",
    # look-alike characters
    "letter O for zero": "At Re 100 the RMSE was O.OO31 [V1].",
    "fullwidth digits": "At Re 100 the RMSE was ０.０４２ [V1].",
    "Arabic-Indic digits": "At Re 100 the RMSE was ٠.٣١ [V1].",
    "mathematical bold digits": "At Re 100 the RMSE was 𝟎.𝟑𝟏 [V1].",
    "Cyrillic O in a number": "At Re 100 the RMSE was О.31 [V1].",
    "zero-width space inside a number": "At Re 100 the RMSE was 0.0\u200b31 [V1].",
    "superscript exponent": "At Re 100 the RMSE was 4.2×10⁻³ [V1].",
    "Cyrillic letter inside a key": "rе=400 passed every gate [V1].",
    # numbers and names bound to the wrong citation
    "rejected number given to an accepted one": "Unlike re=400, which failed [V3], Re 100 reached 0.31 [V1].",
    "number of one accepted experiment given to another": "At Re 100 the RMSE was 0.0093 [V1][V5].",
    "key spelled with separators": "Re = 400 passed every gate [V1].",
    "number in words": "At Re 100 the RMSE was zero point three one [V1].",
    "percent in words": "At Re 1000 the error was twenty-one percent [V5].",
    # ratios, fractions and numbers a reader reads though they are not written as plain digits
    "ratio in words": "Re 100 has a two-fold lower error than Re 1000 [V1][V5].",
    "ratio in one word": "Going from Re 1000 to Re 100 halved the error [V1][V5].",
    "fraction in words": "One third of the cells hold reversed flow at Re 100 [V2].",
    "factor glued to an x": "Re 100 improves on Re 1000 by x2 [V1][V5].",
    "number glued to letters": "At Re 100 the RMSE was rmse0.31 [V1].",
    "number that parses as none": "At Re 100 the RMSE was 0.31.2 [V1].",
    "Roman numeral": "At Re 100 the error was Ⅳ % [V1].",
    "zero said as nought": "At Re 100 the RMSE was nought point three one [V1].",
    # a failure stated only to be denied, and success claimed in general
    "denied failure": "It would be wrong to say re=400 failed [V3].",
    "failure called untrue": "The claim that re=400 was rejected is untrue [V3].",
    "generalised praise": "The solver is validated across Reynolds numbers [V1][V5].",
    "praise of the whole sweep": "The whole sweep is a success [V1][V5].",
    "quantified praise in other words": "Every case is flawless [V1][V5].",
    "quantified praise by emoji": "All cases 💯 [V1][V5].",
    "praise by pronoun beside a rejection": "The comparator rejected re=400 [V3] but it passed [V1].",
    "line separator cutting one sentence in two": "The re=400 run failed [V3]\u2028and then passed every gate [V1].",
    # a line break inside a paragraph, which markdown joins into one sentence when it renders
    "line break cutting one sentence in two": (
        "The re=400 run [V3] [V4] was not accepted by the comparator, and then\n"
        "reached an RMSE of 0.0093 [V5], passing every gate [V5] [V6]."
    ),
    # markdown that still links, shows images or makes sections from inside a list or in another case
    "link definition inside a list item": "The re=100 run passed every gate [V1].\n\n- [V1]: HTTPS://evil.example/v",
    "reference-style image": "The re=100 run passed every gate [V1].\n\n![centreline][fig]",
    "heading underlined by one character": "Accepted results [V1] [V5]\n=\nThe re=100 run passed every gate [V1].",
    "heading inside a list item": "- ## The re=100 run passed every gate [V1]",
    # negations handled sensibly
    "negated acceptance of an accepted result": "The re=100 case was not accepted [V1].",
    "negated failure mixed with a rejected citation": "Neither case failed [V1][V3].",
    # counts of experiments in words, and experiments named by what the sentence leaves out
    "more successes counted than cited": "Three cases passed every gate [V1][V5].",
    "all of a count succeeded": "Three of three cases passed every gate [V1][V5].",
    "a bare count of successes": "Three Reynolds numbers were studied and three passed every gate [V1][V5].",
    "fewer experiments said to have run": "The study ran two cases, and both passed every gate [V1][V5].",
    "the remaining case said to pass": "The remaining case passed as well [V1][V5].",
    "the others said to pass": "Re 100 passed every gate [V1], and so did the others [V5].",
}


@pytest.mark.parametrize("prose", HONEST)
def test_honest_prose_is_accepted(prose: str) -> None:
    result = check_prose(prose, RECORD)
    assert result.decision == "accept", result.reasons


@pytest.mark.parametrize("prose", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_prose_is_rejected(prose: str) -> None:
    result = check_prose(prose, RECORD)
    assert result.decision == "reject", f"published: {prose!r}"
    assert problem_kinds(result) and len(result.reasons) >= 2


def test_a_rejection_names_its_kinds_without_the_prose() -> None:
    result = check_prose("re=400 passed every gate with an RMSE of 0.0031 [V3].", RECORD)
    kinds = problem_kinds(result)
    assert "claim of success for a result not accepted" in kinds and "number not from the cited verdicts" in kinds
    assert "0.0031" not in kinds and any("0.0031" in reason for reason in result.reasons[1:])


def test_an_honest_paragraph_of_several_sentences_is_accepted() -> None:
    prose = " ".join(HONEST[:3]) + "\n\n" + " ".join(HONEST[5:8])
    result = check_prose(prose, RECORD)
    assert result.decision == "accept", result.reasons
    assert result.metrics["sentences"] >= 6


def test_one_bad_sentence_sinks_a_good_paragraph() -> None:
    prose = " ".join(HONEST[:3]) + " Overall, every case agrees with the benchmark [V1]."
    assert check_prose(prose, RECORD).decision == "reject"


def test_model_and_document_text_outside_the_summary_adds_no_structure_to_the_report(
    store: RunStore, tmp_path: Path
) -> None:
    """A verdict's reasons (a vision model's words), an experiment's rationale (a model's hypothesis) and a
    plan's quoted passage (a document's text) reach the report without the write-up gate: each must stay
    one line of literal text, never a heading, a table row, a link or an image of its own."""
    from agents._writer import write_report
    from tests.test_writer import _populated_run

    run_id, context = _populated_run(store, tmp_path)
    good, _ = store.experiments(run_id)
    assert good.id is not None
    injected = (
        "fine\n\n## Accepted results\n### re=400\n| rmse_u | 0.0001 | comparator [V2] |\n![x](https://e.org/p.png)"
    )
    store.add_verdict(run_id, good.id, GateResult(gate="vision", decision="accept", reasons=[injected]))
    store.update_experiment(good.id, rationale=injected)
    plan = {"planner": "model", "rationale": injected, "citations": [
        {"passage": "paper.md#1", "location": "paragraph 1", "quote": "[validated](https://e.org) re=400 " + injected}
    ]}  # fmt: skip
    store.update_run(run_id, options={"plan": plan})
    lines = write_report(context).read_text().splitlines()
    assert lines.count("## Accepted results") == 1 and "### re=400" not in lines
    assert not any(line.startswith("| rmse_u | 0.0001") for line in lines)
    html = (store.run_dir(run_id) / "report.html").read_text()
    assert html.count("<h2>Accepted results</h2>") == 1 and "<h3>re=400" not in html
    assert "https://e.org" in html and "<a href" not in html and "<td>0.0001</td>" not in html
    assert "[image: x]" not in html  # the image markup shows as the text written, not as a refused image


def test_overlong_prose_is_rejected_without_being_judged() -> None:
    import time

    started = time.monotonic()
    result = check_prose("At Re 100 the RMSE was 0.0042 [V1]. " * 50_000, RECORD)
    assert result.decision == "reject" and problem_kinds(result) == "prose too long"
    assert time.monotonic() - started < 1.0
