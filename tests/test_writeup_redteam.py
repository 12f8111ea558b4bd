"""The write-up gate against signs dropped, limits and parameters given as measurements, praise or excuses beside
a rejection, and quantities said in words it cannot read; beside each, honest sentences of the same shape.

The record uses the metric names the real gates emit: a cavity comparator verdict carries its limit
(`rmse_max`) beside its measurements, a hill candidate's held-out verdict a negative `in_sample_gain` (the
candidate is worse in sample) and the default model's error (`baseline_cf_rmse`), and experiments carry
parameters (`cells`, `kappa`). `re=400` and `cand-007` were not accepted.
"""

from __future__ import annotations

import pytest

from verifiers import ExperimentFacts, VerdictFacts, WriteupRecord, check_prose, problem_kinds
from verifiers._writeup import metric_roles

RECORD = WriteupRecord(
    experiments={
        "re=100": ExperimentFacts("re=100", True, {"re": 100.0, "cells": 64.0}),
        "re=400": ExperimentFacts("re=400", False, {"re": 400.0, "cells": 64.0}),
        "cand-003": ExperimentFacts("cand-003", True, {"cb1": 0.1355, "kappa": 0.41}),
        "cand-007": ExperimentFacts("cand-007", False, {"cb1": 0.2, "kappa": 0.41}),
        "winner": ExperimentFacts("winner", True, {}),
    },
    verdicts={
        1: VerdictFacts(
            1, "re=100", "comparator", True,
            {"rmse_u": 0.0017, "rmse_v": 0.0047, "rmse_max": 0.02, "reader_disagreement": 0.0009},
        ),
        2: VerdictFacts(2, "re=100", "physical-range", True, {"yplus_max": 35.0, "yplus_mean": 12.0}),
        3: VerdictFacts(3, "re=400", "comparator", False, {"rmse_u": 0.31, "rmse_v": 0.27, "rmse_max": 0.02}),
        10: VerdictFacts(
            10, "cand-003", "held-out", True,
            {"in_sample_gain": -0.025, "in_sample_cf_rmse": 0.00297, "baseline_cf_rmse": 0.0029},
        ),
        11: VerdictFacts(
            11, "cand-007", "held-out", False,
            {"in_sample_gain": 0.095, "in_sample_cf_rmse": 0.0027, "baseline_cf_rmse": 0.0029},
        ),
        12: VerdictFacts(12, "cand-003", "comparator", True, {"cf_rmse": 0.00297, "cf_rmse_max": 0.006}),
        20: VerdictFacts(
            20, "winner", "kernel-correctness", True,
            {
                "in-distribution fitness": 0.21,
                "in-distribution seed fitness": 0.0656,
                "in-distribution speedup over seed": 3.2,
            },
        ),
        21: VerdictFacts(
            21, "winner", "kernel-heldout", True,
            {"held-out fitness": 0.3, "held-out speedup over seed": 9.47, "held-out speedup CI low": 8.1},
        ),
    },
)  # fmt: skip

HOSTILE = {
    # signs: a negative value written without its sign, or a positive one with a sign in words
    "a loss written as an improvement": (
        "The third candidate improved the in-sample Cf error by 2.5 % over the default model [V10]."
    ),
    "a negative gain written unsigned": "The third candidate's in-sample gain was 2.5 % [V10].",
    "a negative gain as a fraction, unsigned": "The third candidate gained 0.025 in sample [V10].",
    "a positive gain given a minus in words": "The seventh candidate had an in-sample gain of minus 9.5 % [V11].",
    "a negative value in words without its sign": (
        "The third candidate had an in-sample gain of two point five percent [V10]."
    ),
    # a limit or a parameter given as the measured quantity
    "the comparator's limit as the RMSE": "At Re 100 the centreline RMSE was 0.02 of the lid speed [V1].",
    "the limit under a name no metric has": "At Re 100 the centreline error was 0.02 of the lid speed [V1].",
    "the limit as the largest RMSE": "At Re 100 the largest RMSE was 0.02 [V1].",
    "the cell count as the RMSE": "At Re 100 the centreline RMSE was 64 [V1].",
    "the cell count as an error": "At Re 100 the velocity error was 64 [V1].",
    "kappa as the Cf RMSE": "The third candidate reached a Cf RMSE of 0.41 [V10].",
    "a model coefficient as an error": "The third candidate had an error of 0.1355 [V10].",
    "the hill limit as the Cf RMSE": "The third candidate reached a Cf RMSE of 0.006 [V12].",
    "the default model's error as the candidate's": "The third candidate reached a Cf RMSE of 0.0029 [V10].",
    # praise, ranking or excuses beside a rejection
    "a rejected result called the best": (
        "The seventh candidate was not accepted, its in-sample gain of 9.5 % being the best of the search [V11]."
    ),
    "a rejection blamed on a glitch, its number the headline": (
        "The re=400 case was not accepted owing to a bookkeeping glitch, its RMSE of 0.31 remaining the "
        "study's headline figure [V3]."
    ),
    "a rejected result that outperformed": (
        "The seventh candidate was not accepted by the held-out gate, having outperformed the default by 9.5 % [V11]."
    ),
    "a superlative beside a rejection": (
        "The seventh candidate was rejected by the held-out gate despite the highest in-sample gain, 9.5 % [V11]."
    ),
    "a rejection called a technicality": "The seventh candidate was not accepted only because of a technicality [V11].",
    "the gate blamed": "The re=400 case was rejected due to an overly strict tolerance [V3].",
    "beat the default": "The seventh candidate was not accepted, though it beat the default by 9.5 % [V11].",
    "topped the search": "The seventh candidate, which topped the search with 9.5 %, was not accepted [V11].",
    "a narrow miss": "The seventh candidate narrowly missed acceptance with a gain of 9.5 % [V11].",
    "a comparison with the default, not the limit": (
        "The seventh candidate was not accepted: its in-sample gain of 9.5 % was higher than the default's [V11]."
    ),
    "praise by pronoun after a rejection": (
        "The re=400 case was not accepted [V3]. It was the strongest case of the sweep."
    ),
    "the lowest error beside a rejection": "The re=400 case was not accepted, with the lowest v error of all [V3].",
    # quantities in words the gate cannot read
    "a mixed number in words": "At Re 100 the centreline RMSE was two and a half percent of the lid speed [V1].",
    "a mixed number with quarters": (
        "At Re 100 the centreline RMSE was one and three quarters percent of the lid speed [V1]."
    ),
    "an ordinal past tenths": "At Re 100 the centreline RMSE was one fortieth of the lid speed [V1].",
    "a power in words": "At Re 100 the centreline RMSE was ten to the minus three [V1].",
    "a power of ten in words": "At Re 100 the centreline RMSE was ten to the power of minus two [V1].",
    "per mille": "At Re 100 the centreline RMSE was three per mille of the lid speed [V1].",
    "the per mille sign": "At Re 100 the centreline RMSE was 0.2 ‰ [V1].",
    "parts per thousand": "At Re 100 the centreline RMSE was two parts per thousand of the lid speed [V1].",
    "a few thousandths": "At Re 100 the centreline RMSE was a few thousandths of the lid speed [V1].",
    "several hundredths": "At Re 100 the centreline RMSE was several hundredths of the lid speed [V1].",
    "a couple of percent": "At Re 100 the centreline RMSE was a couple of percent [V1].",
    "a fraction of a percent": "At Re 100 the centreline RMSE was a fraction of a percent of the lid speed [V1].",
    "half a percent": "At Re 100 the centreline RMSE was half a percent of the lid speed [V1].",
    "a fraction word after digits": "At Re 100 the centreline RMSE was 5 thousandths of the lid speed [V1].",
    # a claim carried over to what the sentence does not name (the gate knows experiments by key or place)
    "a claim carried over with 'so did'": (
        "The Re 100 run matched the reference [V1], and so did the harder, more turbulent case."
    ),
    "a number carried over with 'as was'": "At Re 100 the RMSE was 0.0017 [V1], as was the RMSE of the other run.",
    "a claim carried over in a sentence of its own": "At Re 100 the RMSE was 0.0017 [V1]. So was the higher one.",
    "an experiment described, not named": "The higher Reynolds number matched the reference [V1].",
    "a rejected problem described": "The re=100 case was accepted [V1], and the harder problem too.",
    "nothing failed, with a citation": "There were no failures [V1].",
    # a number of one metric under a like-named metric's name (a word they share binds it to both)
    "the held-out speedup as the in-distribution one": "The in-distribution speedup over the seed was 9.47 [V20][V21].",
    "the in-distribution speedup as the held-out one": "The best kernel's held-out speedup was 3.2 [V20][V21].",
    "a metric told apart after the number": "The speedup over the seed was 9.47 in distribution [V20][V21].",
    "the in-distribution fitness as the held-out one": "On held-out sizes the fitness was 0.21 [V20][V21].",
    "u's RMSE as v's": "At Re 100 the v RMSE was 0.0017 [V1].",
    "u's RMSE as v's, after 'of'": "At Re 100 the RMSE of v was 0.0017 of the lid speed [V1].",
    "the largest y+ as its mean": "At Re 100 the mean y+ was 35 [V2].",
    "the mean y+ as its largest": "At Re 100 the largest y+ was 12 [V2].",
    "the in-sample error as another's": "The third candidate's in-sample Cf RMSE was 0.0029 [V10].",
    # the candidate's value and the default model's (or the seed's) swapped
    "candidate and default swapped": (
        "The third candidate reached a Cf RMSE of 0.0029 and the default model 0.00297 [V10]."
    ),
    "candidate and default swapped, default first": (
        "The default model's Cf RMSE was 0.00297 and the third candidate's 0.0029 [V10]."
    ),
    "the default's value as the candidate's": (
        "The third candidate reached a Cf RMSE of 0.0029, compared with the default model [V10]."
    ),
    "the seed's fitness as the winner's": (
        "The winner reached an in-distribution fitness of 0.0656, beating the seed [V20]."
    ),
    "the winner's fitness as the seed's": "The original kernel reached an in-distribution fitness of 0.21 [V20].",
    # a rejected result put within its limit or praised
    "a rejected result under its limit": (
        "The re=400 case was not accepted: its RMSE of 0.31 was under the 0.02 limit [V3]."
    ),
    "a rejected result beneath its limit": (
        "The re=400 case was not accepted, though its RMSE of 0.31 stayed beneath the limit of 0.02 [V3]."
    ),
    "a rejected result's error called small": "The re=400 case was not accepted: its RMSE of 0.31 is small [V3].",
    # other spellings of the words that tell like-named metrics apart
    "'heldout' in one word": "The winner's heldout speedup was 3.2 [V20][V21].",
    "'hold-out'": "The winner's hold-out speedup was 3.2 [V20][V21].",
    "'unseen sizes'": "On unseen sizes the winner's speedup over the seed was 3.2 [V20][V21].",
    "the gate's own name, underscore read as emphasis": "At Re 100 rmse_v = 0.0017 [V1].",
    "'averaged'": "At Re 100 y+ averaged 35 [V2].",
    "'peaked at'": "At Re 100 y+ peaked at 12 [V2].",
    "'maximal'": "At Re 100 the maximal y+ was 12 [V2].",
    "the rest passed, where one failed": "The rest passed [V1][V10].",
    "all others passed, where one failed": "All others passed every gate [V1][V10].",
    "no rejections, with a citation": "The study finished without a single rejection [V1].",
}

HONEST = [
    # signs written
    "The third candidate had an in-sample gain of -2.5 % [V10].",
    "The third candidate had an in-sample gain of minus 2.5 % [V10].",
    "The third candidate had an in-sample gain of −0.025 [V10].",
    "The third candidate had an in-sample gain of negative two point five percent [V10].",
    "The seventh candidate was not accepted by the held-out gate: its in-sample gain was 9.5 % [V11].",
    # measured values, and limits and parameters stated as what they are
    "At Re 100 the centreline RMSE was 0.0017 of the lid speed [V1].",
    "At Re 100 the centreline RMSE was 0.0017 of the lid speed, within the 0.02 limit [V1].",
    "At Re 100 the centreline RMSE was 0.0047 against a limit of 0.02 [V1].",
    "The re=100 case ran on 64 cells per side and its RMSE was 0.0047 [V1].",
    "The third candidate used kappa = 0.41 and cb1 = 0.1355 [V10].",
    "The default model's Cf RMSE was 0.0029 and the third candidate's 0.00297 [V10].",
    "The third candidate reached a Cf RMSE of 0.00297, below the 0.006 limit [V12].",
    "At Re 100 y+ reached at most 35 [V2].",
    # a rejection stated with the gate's own finding
    "The seventh candidate was not accepted by the held-out gate [V11].",
    "The re=400 case was not accepted: its RMSE of 0.31 exceeded the 0.02 limit [V3].",
    "The comparator rejected the re=400 case: its RMSE of 0.31 was above the limit of 0.02 [V3].",
    "The re=400 case failed the comparator with an RMSE of 0.31 [V3].",
    "The comparator rejected the re=400 case, whose RMSE was larger than the tolerance [V3].",
    # numbers in words that are read, and small counts
    "The study compared two cases and three candidates [V1][V10].",
    "At Re 100 the RMSE was two thousandths of the lid speed [V1].",
    "At Re 100 the RMSE was zero point zero zero one seven [V1].",
    "The third candidate was one of seven tried [V10].",
    "Two accepted cases, Re 100 [V1] and the third candidate [V10], are reported.",
    # carrying a claim over among experiments the sentence cites, all accepted; words of the same kind elsewhere
    "Re 100 passed every gate, as did the third candidate [V1][V10].",
    "The re=100 case matched the reference [V1], and its y+ also stayed at most 35 [V2].",
    "The mesh was also refined for the re=100 case [V1].",
    "So the re=100 case ran on 64 cells per side [V1].",
    "On the finer mesh (64 cells per side) the flow matched the reference [V1].",
    # like-named metrics, each number under its own name, or under a word they share
    "The in-distribution speedup over the seed was 3.2 and the held-out speedup 9.47 [V20][V21].",
    "The speedup turned out to be 3.2 in distribution and 9.47 on held-out sizes [V20][V21].",
    "The winner's speedup over the seed was 9.47 [V20][V21].",
    "On held-out sizes the fitness was 0.3, against 0.21 in distribution [V20][V21].",
    "At Re 100 the u and v RMSEs were 0.0017 and 0.0047 [V1].",
    "At Re 100 the RMSE of u was 0.0017 and that of v 0.0047 [V1].",
    "At Re 100 the mean y+ was 12 and its maximum 35 [V2].",
    # whose a value is, said or compared with
    "The third candidate's Cf RMSE rose from the default model's 0.0029 to 0.00297 [V10].",
    "The winner improved on the seed's in-distribution fitness, 0.21 against 0.0656 [V20].",
    "The winner's in-distribution speedup over the seed was 3.2 [V20].",
    "The winner reached an in-distribution fitness of 0.21, beating the seed's 0.0656 [V20].",
    "At Re 100 y+ averaged 12 and peaked at 35 [V2].",
    "The winner's heldout speedup was 9.47 [V20][V21].",
    "At Re 100 rmse_u = 0.0017 [V1].",
]


@pytest.mark.parametrize("prose", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_prose_is_rejected(prose: str) -> None:
    result = check_prose(prose, RECORD)
    assert result.decision == "reject", f"published: {prose!r}"
    assert problem_kinds(result) and len(result.reasons) >= 2


@pytest.mark.parametrize("prose", HONEST)
def test_honest_prose_of_the_same_shapes_is_accepted(prose: str) -> None:
    result = check_prose(prose, RECORD)
    assert result.decision == "accept", result.reasons


@pytest.mark.parametrize(
    ("prose", "kind"),
    [
        ("The third candidate's in-sample gain was 2.5 % [V10].", "number without the sign of its value"),
        ("At Re 100 the centreline RMSE was 0.02 of the lid speed [V1].", "limit or parameter given as a measured"),
        ("At Re 100 the centreline RMSE was 64 [V1].", "limit or parameter given as a measured value"),
        ("The re=400 case was not accepted owing to a glitch [V3].", "praise or excuse beside a result not accepted"),
        ("At Re 100 the RMSE was ten to the minus three [V1].", "number in words the gate cannot read"),
    ],
)
def test_each_rejection_says_why(prose: str, kind: str) -> None:
    result = check_prose(prose, RECORD)
    assert result.decision == "reject" and kind in problem_kinds(result), result.reasons


def test_the_reference_datas_value_is_given_as_its_own_not_as_the_experiments() -> None:
    record = WriteupRecord(
        experiments={"step": ExperimentFacts("step", True, {})},
        verdicts={
            1: VerdictFacts(
                1, "step", "comparator", True, {"reattachment_length": 6.1, "reference_reattachment_length": 6.26}
            )
        },
    )
    for honest in [
        "The measured reattachment length was 6.26 [V1].",
        "The reattachment length was 6.1 against the measured 6.26 [V1].",
        "The reference reattachment length was 6.26 and the computed one 6.1 [V1].",
    ]:
        assert check_prose(honest, record).decision == "accept", honest
    for hostile in ["The reattachment length was 6.26 [V1].", "The reference reattachment length was 6.1 [V1]."]:
        assert check_prose(hostile, record).decision == "reject", hostile


def test_limits_are_told_from_measured_extremes() -> None:
    roles = metric_roles({"rmse_u": 0.1, "rmse_max": 0.02, "yplus_max": 35.0, "yplus_mean": 12.0})
    assert roles["rmse_max"][0] == "limit" and roles["yplus_max"][0] == "measured"
    assert metric_roles({"courant_max": 0.8, "continuity_max": 1e-5, "continuity_final": 1e-6}) == {
        "courant_max": ("measured", ""),
        "continuity_max": ("measured", ""),
        "continuity_final": ("measured", ""),
    }
    assert metric_roles({"profile_tolerance": 0.02})["profile_tolerance"][0] == "limit"
    assert metric_roles({"baseline_cf_rmse": 0.0029})["baseline_cf_rmse"] == ("qualified", "baseline")


def test_unreadable_input_gets_a_reason_not_a_traceback() -> None:
    for prose in ["‰ ‰ to the minus", "minus -", "and a half and a half", "one and", "ten to the"]:
        result = check_prose(prose + " [V1].", RECORD)
        assert result.decision in {"accept", "reject"} and result.reasons
