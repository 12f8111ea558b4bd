"""The held-out gate's speed rule on controlled log ratios: what the timings of a loaded machine can and cannot do."""

from __future__ import annotations

import math

from verifiers.kernels._measure import MIN_ROUNDS, SpeedDecision, decide


def rounds(*ratios: float) -> list[float]:
    return [math.log(ratio) for ratio in ratios]


def test_a_clear_speedup_is_faster_once_enough_rounds_agree() -> None:
    steady = rounds(*[1.2, 1.25, 1.22, 1.18, 1.21][:MIN_ROUNDS])
    decision = decide(steady, 0.9, final=False)
    assert decision is not None and decision.verdict == "faster"
    assert decision.low >= 0.9 and 1.18 < decision.ratio < 1.25


def test_too_few_rounds_decide_nothing_until_the_budget_is_spent() -> None:
    assert decide([], 0.9, final=True) is None
    one = rounds(1.5)
    assert decide(one, 0.9, final=False) is None
    final = decide(one, 0.9, final=True)
    assert final is not None and final.verdict == "inconclusive" and math.isinf(final.high)


def test_a_clear_regression_is_slower() -> None:
    decision = decide(rounds(*[0.5, 0.52, 0.49, 0.51, 0.5][:MIN_ROUNDS]), 0.9, final=False)
    assert decision is not None and decision.verdict == "slower" and decision.high < 0.9


def test_noisy_rounds_straddling_the_threshold_stay_inconclusive_never_accepted() -> None:
    noisy = rounds(*[1.6, 0.6, 1.4, 0.7, 1.5][:MIN_ROUNDS])
    assert decide(noisy, 0.9, final=False) is None
    decision = decide(noisy, 0.9, final=True)
    assert decision is not None and decision.verdict == "inconclusive"
    assert decision.low < 0.9 < decision.high


def test_the_seed_itself_is_one_by_definition() -> None:
    assert SpeedDecision.of_the_seed_itself(0.9).verdict == "faster"
    assert SpeedDecision.of_the_seed_itself(1.5).verdict == "slower"
