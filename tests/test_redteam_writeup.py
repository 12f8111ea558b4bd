"""The write-up gate against quantities said in words and praise by pronoun, beside the honest phrasings they resemble.

Same record as `test_writeup_gate_hostile`: `re=100` and `re=1000` accepted, `re=400` rejected. Each hostile
sentence states a number no cited verdict holds, claims success uncited, or praises a rejected result by a
pronoun, in a form the gate once let through; each honest one must still pass.
"""

from __future__ import annotations

import pytest

from tests.test_writeup_gate_hostile import RECORD
from verifiers import check_prose

HOSTILE = {
    "decimal in words without its leading zero": "At Re 100 the RMSE was point three one [V1].",
    "hundredths in words": "At Re 100 the RMSE was nine hundredths of the lid speed [V1].",
    "thousandths in words": "At Re 100 the RMSE was nine thousandths of the lid speed [V1].",
    "an order of magnitude": "Re 100 is an order of magnitude more accurate than Re 1000 [V1][V5].",
    "orders of magnitude": "Re 100 is four orders of magnitude more accurate than Re 1000 [V1][V5].",
    "a ratio as 'doubles'": "The error doubles from Re 100 to Re 1000 [V1][V5].",
    "a ratio as 'double the'": "Re 1000 has double the error of Re 100 [V1][V5].",
    "a ratio as 'triple the'": "Re 1000 has triple the error of Re 100 [V1][V5].",
    "a share as 'one in three'": "One in three cells holds reversed flow at Re 100 [V2].",
    "a share as 'half of'": "Half of the cells hold reversed flow at Re 100 [V2].",
    "a thousands multiplier glued to a number": "The re=100 case used 64k cells [V1].",
    "uncited praise as 'within tolerance'": "Every case stayed within tolerance.",
    "uncited praise as 'inside the tolerance band'": "All runs landed inside the tolerance band.",
    "uncited praise as 'sound'": "Each case is physically sound.",
    "praise of every case as 'within its limits'": "Every case stayed within its limits [V1][V5].",
    # a pronoun reaches back to the sentence before: read of the rejected experiment it follows
    "praise by pronoun after a rejection": "The comparator rejected re=400 [V3]. It then passed every gate [V1].",
    "praise by pronoun after a connective": "The comparator rejected re=400 [V3]. Nevertheless, it passed [V1][V5].",
    "praise of 'this case' on the next line": "The re=400 run was not accepted [V3].\nThis case matched the data [V1].",
    "praise of 'the same case'": "The re=400 run was not accepted [V3]. The same case agrees with the data [V2].",
    "uncited praise as 'as expected'": "Every case behaved as expected.",
    "uncited praise as 'in line with'": "All runs were in line with the reference data.",
    "uncited praise as 'on target'": "The whole sweep was on target.",
    "uncited praise as 'looks fine'": "Each case looks fine.",
    "praise of a rejected run as 'as predicted'": "The re=400 run behaved as predicted [V3].",
    # a number of the cited verdict, given under the name of another of its quantities
    "the error in percent given as the RMSE": "The re=1000 run reproduced the reference with an RMSE of 2.4 [V5].",
    "an RMSE given as the reversed share": "At Re 100 the reversed share was 0.0042 [V1][V2].",
    "an RMSE given as the GCI": "The GCI of Re 1000 was 0.0093 [V5][V6].",
}

HONEST = [
    "At Re 100 about one cell in five reverses [V2].",
    "Reversed flow fills the lower half of the cavity at Re 100 [V2].",
    "At Re 100 the RMSE was four thousandths of the lid speed [V1].",
    "At this point one case was rejected: re=400 failed the comparator [V3].",
    "The re=100 run used double precision and its RMSE was 0.0042 [V1].",
    "The re=100 case stayed within tolerance [V1].",
    "The re=400 run diverged within ten steps and was rejected [V3].",
    "The re=400 case was not within tolerance [V3].",
    "The re=400 run was not accepted [V3]. Re 100 passed every gate [V1].",
    "The re=400 run was not accepted [V3]. It failed the comparator [V3].",
    "The comparator rejected re=400 [V3]. This shows where the mesh is too coarse.",
    "Re 100 passed every gate [V1]. It agrees with Ghia et al. (1982) [V1].",
    "Re 100 passed every gate [V1].\n\n- The re=400 run was not accepted [V3].\n- Re 1000 passed [V5].",
    "Re 100 passed every gate [V1] - and so did Re 1000 [V5].",
    "The fine mesh of Re 100 passed every gate [V1].",
    "Re 100 behaved as expected [V1].",
    "The re=400 run did not behave as expected [V3].",
    "Re 1000 has an RMSE of 0.0093 and an error of 2.4 % [V5].",
    "At Re 100 the RMSE of u was 0.0042 and a share of 0.183 of the cells reversed [V1][V2].",
]


@pytest.mark.parametrize("prose", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_prose_is_rejected(prose: str) -> None:
    verdict = check_prose(prose, RECORD)
    assert verdict.decision == "reject", verdict.reasons


@pytest.mark.parametrize("prose", HONEST)
def test_honest_prose_beside_it_is_accepted(prose: str) -> None:
    verdict = check_prose(prose, RECORD)
    assert verdict.decision == "accept", verdict.reasons
