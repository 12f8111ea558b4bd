"""The write-up gate against claims of direction the measurements contradict, interval bounds given as the
estimate, values in words, experiments named by place, and disputes of a gate; beside each, honest sentences of
the same shape.

The kernel record is shaped like the kernel gates' metrics: an accepted candidate whose held-out speedup over the
seed is 0.995 (95 % interval 0.916 to 1.081) and whose in-distribution speedup is 0.89, so that "accepted" does
not mean "faster"; a second record has a candidate that is truly faster. The CFD record is the one of
`test_writeup_redteam`: the third candidate (cand-003) was accepted with a negative in-sample gain, the seventh
(cand-007) was rejected.
"""

from __future__ import annotations

import pytest

from tests.test_writeup_gate_hostile import RECORD as CAVITY
from tests.test_writeup_redteam import RECORD as HILL
from verifiers import ExperimentFacts, VerdictFacts, WriteupRecord, check_prose, problem_kinds
from verifiers._writeup import metric_roles
from verifiers._writeup_metrics import polarity
from verifiers._writeup_text import spelled_numbers

KERNEL = WriteupRecord(
    experiments={"gen-012": ExperimentFacts("gen-012", True, {"LOCAL": 64.0, "VEC": 4.0})},
    verdicts={
        1: VerdictFacts(
            1, "gen-012", "kernel-correctness", True,
            {"in-distribution fitness": 0.651, "in-distribution seed fitness": 0.6214,
             "in-distribution speedup over seed": 0.89, "input seed": 123456.0},
        ),
        2: VerdictFacts(
            2, "gen-012", "kernel-heldout", True,
            {"held-out fitness": 0.70, "held-out seed fitness": 0.69, "held-out speedup over seed": 0.995,
             "held-out speedup CI low": 0.916, "held-out speedup CI high": 1.081, "input seed": 777.0},
        ),
    },
)  # fmt: skip

FASTER = WriteupRecord(
    experiments={"gen-031": ExperimentFacts("gen-031", True, {"LOCAL": 64.0})},
    verdicts={
        1: VerdictFacts(
            1, "gen-031", "kernel-correctness", True,
            {"in-distribution fitness": 0.72, "in-distribution seed fitness": 0.62,
             "in-distribution speedup over seed": 1.15},
        ),
        2: VerdictFacts(
            2, "gen-031", "kernel-heldout", True,
            {"held-out speedup over seed": 1.21, "held-out speedup CI low": 1.12, "held-out speedup CI high": 1.3},
        ),
    },
)  # fmt: skip

HOSTILE = {
    # W1: words of direction against the metric's sign and reference
    "faster at a speedup of 0.995 within its interval": (
        KERNEL,
        "The evolved kernel gen-012 was faster than the seed on the held-out sizes [V2].",
    ),
    "outperformed at 0.995": (KERNEL, "The evolved kernel gen-012 outperformed the seed on held-out sizes [V2]."),
    "beat the seed at every size": (KERNEL, "The evolved kernel gen-012 beat the seed at every size [V1][V2]."),
    "faster in distribution at 0.89": (KERNEL, "gen-012 was faster than the seed in distribution [V1]."),
    "sped up by 0.89x": (KERNEL, "gen-012 sped up saxpy by 0.89x [V1]."),
    "0.995x called faster": (KERNEL, "gen-012 was 0.995x the seed, i.e. faster [V2]."),
    "the fastest kernel": (KERNEL, "gen-012 is the fastest saxpy kernel found [V1][V2]."),
    "a speedup without a number": (KERNEL, "gen-012 had a speedup over the seed [V1]."),
    "not slower at 0.89": (KERNEL, "gen-012 was not slower than the seed in distribution [V1]."),
    "quicker": (KERNEL, "gen-012 was quicker than the seed on held-out sizes [V2]."),
    "a win": (KERNEL, "gen-012 was a clear win over the seed [V2]."),
    "came out ahead": (KERNEL, "Against the seed, gen-012 came out ahead [V2]."),
    "improved on the default": (
        HILL,
        "The third candidate improved the in-sample Cf error over the default model [V10].",
    ),
    "outperformed the default": (HILL, "The third candidate outperformed the default model in sample [V10]."),
    "lowered below the default's": (
        HILL,
        "The third candidate lowered the in-sample Cf RMSE below the default model's [V10].",
    ),
    "a positive gain": (HILL, "The third candidate had a positive in-sample gain [V10]."),
    "no loss": (HILL, "The third candidate had no in-sample loss [V10]."),
    "lost nothing": (HILL, "The third candidate lost nothing in sample [V10]."),
    "lower than the default's, with its number": (
        HILL,
        "The third candidate's in-sample Cf RMSE of 0.00297 was lower than the default model's [V10].",
    ),
    "fell to B from A with B above A": (
        HILL,
        "The third candidate's Cf RMSE fell to 0.00297 from the default model's 0.0029 [V10].",
    ),
    "dropped to": (HILL, "The third candidate's Cf RMSE dropped to 0.00297 [V10]."),
    "brought down": (HILL, "The third candidate brought the in-sample Cf RMSE down to 0.00297 [V10]."),
    "gained": (HILL, "The third candidate gained in sample [V10]."),
    "lower than another experiment's": (CAVITY, "Re 1000 has a lower RMSE than Re 100 [V1][V5]."),
    "more accurate than another experiment": (CAVITY, "Re 1000 is more accurate than Re 100 [V1][V5]."),
    "above the limit when below it": (HILL, "At Re 100 the RMSE of 0.0047 was above the limit [V1]."),
    "rose from A to B with B below A": (CAVITY, "The error rose from 0.0093 to 0.0042 [V1][V5]."),
    "a metric of unknown direction": (CAVITY, "At Re 100 y+ improved [V2]."),
    # W2: an end of the confidence interval given as the estimate
    "the upper bound as the speedup": (KERNEL, "gen-012 reached a held-out speedup of 1.081 over the seed [V2]."),
    "the upper bound rounded": (KERNEL, "gen-012 reached a held-out speedup of 1.08x over the seed [V2]."),
    "the upper bound as 'up to'": (KERNEL, "gen-012 ran up to 1.081 times the seed's speed on held-out sizes [V2]."),
    # W3: zero in words, experiments by place, disputes
    "a gain of zero": (HILL, "The third candidate had an in-sample gain of zero [V10]."),
    "an RMSE of nil": (HILL, "At Re 100 the RMSE was nil [V1]."),
    "below a stated number that one of the named metrics exceeds": (
        HILL,
        "At Re 100 the RMSE stayed below 0.002 [V1].",
    ),
    "a rejected candidate by ordinal": (HILL, "The seventh candidate was accepted [V12]."),
    "a rejected candidate by ordinal, with a number": (
        HILL,
        "The seventh candidate, the search's best, reached a Cf RMSE of 0.00297 [V12].",
    ),
    "the last candidate": (HILL, "The last candidate was accepted by every gate [V12]."),
    "an ordinal in digits": (HILL, "The 7th candidate passed [V12]."),
    "a place no experiment holds": (HILL, "The ninth candidate reached a Cf RMSE of 0.00297 [V12]."),
    "the reference called wrong": (
        HILL,
        "The re=400 case was not accepted; its answer is right and the reference wrong [V3].",
    ),
    "the reference data called inaccurate": (
        HILL,
        "The re=400 case was not accepted; Ghia's data at Re 400 are known to be inaccurate [V3].",
    ),
    "the tolerance called too strict": (HILL, "The re=400 case was not accepted; the tolerance is too strict [V3]."),
    "an uncited dispute": (HILL, "The benchmark data are flawed."),
    # W4: words of comparison outside the first lists, and claims of sameness, which no gate measures
    "outpaced at 0.995": (KERNEL, "gen-012 outpaced the seed on the held-out sizes [V2]."),
    "less time at 0.995": (KERNEL, "gen-012 took less time than the seed on the held-out sizes [V2]."),
    "a shorter run time at 0.995": (KERNEL, "gen-012 has a shorter run time than the seed on the held-out sizes [V2]."),
    "more efficient at 0.995": (KERNEL, "gen-012 is more efficient than the seed on the held-out sizes [V2]."),
    "cheaper at 0.995": (KERNEL, "gen-012 is cheaper to run than the seed on the held-out sizes [V2]."),
    "saves time at 0.995": (KERNEL, "gen-012 saves time over the seed on the held-out sizes [V2]."),
    "sooner at 0.995": (KERNEL, "gen-012 finishes sooner than the seed on the held-out sizes [V2]."),
    "recommended at 0.995": (KERNEL, "gen-012 is the recommended kernel for saxpy [V2]."),
    "preferred at 0.995": (KERNEL, "gen-012 is to be preferred to the seed [V2]."),
    "full speed at 0.89": (KERNEL, "gen-012 runs at full speed in distribution [V1]."),
    "as fast as at 0.89": (KERNEL, "gen-012 was as fast as the seed in distribution [V1]."),
    "on par at 0.89": (KERNEL, "gen-012 is on par with the seed in distribution [V1]."),
    "kept pace at 0.89": (KERNEL, "gen-012 kept pace with the seed in distribution [V1]."),
    "matched the speed at 0.89": (KERNEL, "gen-012 matched the seed's speed in distribution [V1]."),
    "most accurate, the worse case": (CAVITY, "Re 1000 is the most accurate case [V1][V5]."),
    "trailed, the better case": (CAVITY, "Re 100 trailed Re 1000 [V1][V5]."),
    "underperforms, the better case": (CAVITY, "Re 100 underperforms Re 1000 [V1][V5]."),
    "lags, the better case": (CAVITY, "Re 100 lags Re 1000 [V1][V5]."),
    "falls short, the better case": (CAVITY, "Re 100 falls short of Re 1000 [V1][V5]."),
    "edged out, the worse case": (CAVITY, "Re 1000 edged out Re 100 [V1][V5]."),
    "further from the data, the better case": (CAVITY, "Re 100 is further from the data than Re 1000 [V1][V5]."),
    "deviates more, the better case": (CAVITY, "Re 100 deviates more from the reference than Re 1000 [V1][V5]."),
    "equally accurate": (CAVITY, "Re 100 and Re 1000 are equally accurate [V1][V5]."),
    "nowhere near as small": (CAVITY, "The RMSE at Re 100 is nowhere near as small as at Re 1000 [V1][V5]."),
    # W5: a ratio of speeds stated as a share of run time
    "a speedup as a share of time": (KERNEL, "gen-012 needed only 0.89 of the seed's time in distribution [V1]."),
    "a speedup as times the run time": (KERNEL, "gen-012 takes 0.89 times the seed's run time in distribution [V1]."),
    "a held-out speedup as the time": (KERNEL, "gen-012 was 0.995x the seed's time on the held-out sizes [V2]."),
    # The reference of a comparison named first: the clause speaks of the other case
    "compared with the better case first": (CAVITY, "Compared with Re 100, Re 1000 is off by less [V1][V5]."),
    "relative to the better case first": (CAVITY, "Relative to Re 100, Re 1000 is more accurate [V1][V5]."),
    "unlike the better case": (CAVITY, "Unlike Re 100, Re 1000 is close to the data, more accurate [V1][V5]."),
}

HONEST = [
    (FASTER, "gen-031 was faster than the seed on the held-out sizes [V2]."),
    (FASTER, "gen-031 sped up the kernel by 1.15x in distribution [V1]."),
    (FASTER, "gen-031 reached a held-out speedup of 1.21 over the seed (CI 1.12 to 1.3) [V2]."),
    (
        FASTER,
        "gen-031 reached a held-out speedup of 1.21 over the seed, with a confidence interval of 1.12 to 1.3 [V2].",
    ),
    (FASTER, "The upper bound of the held-out speedup was 1.3 [V2]."),
    (FASTER, "gen-031 improved the in-distribution fitness from the seed's 0.62 to 0.72 [V1]."),
    (FASTER, "gen-031 is the fastest kernel found, 1.21 times the seed on held-out sizes [V2]."),
    (KERNEL, "gen-012 improved on the seed's in-distribution fitness, 0.651 against 0.6214 [V1]."),
    (KERNEL, "gen-012 was not faster than the seed on the held-out sizes [V2]."),
    (KERNEL, "gen-012 had a held-out speedup of 0.995 over the seed [V2]."),
    (KERNEL, "gen-012 was slower than the seed in distribution, at 0.89x [V1]."),
    (KERNEL, "gen-012 was 0.89 times as fast as the seed in distribution [V1]."),
    (HILL, "The third candidate's in-sample Cf RMSE of 0.00297 was higher than the default model's 0.0029 [V10]."),
    (HILL, "The third candidate did not improve on the default model in sample [V10]."),
    (HILL, "The third candidate had a negative in-sample gain [V10]."),
    (HILL, "The seventh candidate was not accepted by the held-out gate: its in-sample gain was 9.5 % [V11]."),
    (HILL, "The third candidate was worse than the default model in sample, with a gain of -2.5 % [V10]."),
    (HILL, "The third candidate's Cf RMSE rose from the default model's 0.0029 to 0.00297 [V10]."),
    (HILL, "At Re 100 the RMSE of 0.0017 was below the 0.02 limit [V1]."),
    (HILL, "The third candidate's Cf RMSE of 0.00297 is lower than the limit of 0.006 [V12]."),
    (HILL, "The seventh candidate was not accepted by the held-out gate [V11]."),
    (HILL, "Candidate three was accepted by the comparator [V12]."),
    (HILL, "The third candidate was one of seven tried [V10]."),
    (CAVITY, "Re 1000 has a higher RMSE than Re 100 [V1][V5]."),
    (CAVITY, "Re 100 is more accurate than Re 1000 [V1][V5]."),
    (CAVITY, "At higher Reynolds number the RMSE grew from 0.0042 to 0.0093 [V1][V5]."),
    (CAVITY, "Reversed flow fills the lower half of the cavity at Re 100 [V2]."),
    (CAVITY, "The re=400 case gave wrong velocities and was rejected by the comparator [V3]."),
    (FASTER, "gen-031 outpaced the seed on the held-out sizes [V2]."),
    (FASTER, "gen-031 took less time than the seed on the held-out sizes [V2]."),
    (FASTER, "gen-031 has a shorter run time than the seed on the held-out sizes [V2]."),
    (FASTER, "gen-031 is the recommended kernel, faster than the seed on the held-out sizes [V2]."),
    (KERNEL, "gen-012 was slower than the seed in distribution and took more time [V1]."),
    (CAVITY, "Re 100 is the most accurate case [V1][V5]."),
    (CAVITY, "Re 1000 trailed Re 100 [V1][V5]."),
    (CAVITY, "Re 1000 is further from the data than Re 100 [V1][V5]."),
    (CAVITY, "Compared with Re 100, Re 1000 is off by more [V1][V5]."),
    (CAVITY, "Relative to Re 1000, Re 100 is more accurate [V1][V5]."),
    (CAVITY, "Against Re 100, Re 1000 has a higher RMSE [V1][V5]."),
]


@pytest.mark.parametrize(("record", "prose"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_prose_is_rejected(record: WriteupRecord, prose: str) -> None:
    result = check_prose(prose, record)
    assert result.decision == "reject", f"published: {prose!r}"
    assert problem_kinds(result) and len(result.reasons) >= 2


@pytest.mark.parametrize(("record", "prose"), HONEST, ids=[prose for _, prose in HONEST])
def test_honest_prose_of_the_same_shapes_is_accepted(record: WriteupRecord, prose: str) -> None:
    result = check_prose(prose, record)
    assert result.decision == "accept", result.reasons


@pytest.mark.parametrize(
    ("record", "prose", "kind"),
    [
        (KERNEL, "gen-012 was faster than the seed [V2].", "claim of direction the measurements contradict"),
        (CAVITY, "At Re 100 y+ improved [V2].", "claim of direction the record cannot check"),
        (KERNEL, "gen-012 reached a held-out speedup of 1.081 [V2].", "limit or parameter given as a measured"),
        (HILL, "The ninth candidate was accepted [V12].", "experiment named by a place no experiment holds"),
        (HILL, "The re=400 case was not accepted; the reference is wrong [V3].", "dispute of a gate"),
    ],
)
def test_each_rejection_says_why(record: WriteupRecord, prose: str, kind: str) -> None:
    result = check_prose(prose, record)
    assert result.decision == "reject" and kind in problem_kinds(result), result.reasons


def test_interval_bounds_have_a_role_of_their_own() -> None:
    roles = metric_roles({"held-out speedup over seed": 0.995, "held-out speedup CI low": 0.9, "gain_ci_upper": 1.0})
    assert roles["held-out speedup over seed"] == ("measured", "")
    assert roles["held-out speedup CI low"] == ("bound", "low") and roles["gain_ci_upper"] == ("bound", "high")


def test_metric_directions_are_read_from_names_and_unknown_ones_are_none() -> None:
    speedup, gain, rmse = polarity("held-out speedup over seed"), polarity("in_sample_gain"), polarity("cf_rmse")
    assert speedup is not None and (speedup.better, speedup.neutral, speedup.family) == (1, 1.0, "speed")
    assert gain is not None and (gain.better, gain.neutral) == (1, 0.0)
    assert rmse is not None and (rmse.better, rmse.neutral) == (-1, None)
    assert polarity("yplus_max") is None and polarity("reversed_share") is None


def test_zero_in_words_is_read_as_a_value_and_counts_are_not() -> None:
    assert spelled_numbers("an in-sample gain of zero [V10]") == [("0", 0.0)]
    assert spelled_numbers("a gain of one [V1]") == [("1", 1.0)]
    assert spelled_numbers("one of seven tried, at one end, two cases") == []
