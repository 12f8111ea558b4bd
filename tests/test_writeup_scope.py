"""The write-up gate against claims its verdicts cannot carry: Roman numerals standing for numbers, properties no
cited gate checked (mesh independence, reproducibility, physical range, held-out sizes), and reach past the
experiments (fitness for industrial use, results for every flow). Each was accepted before."""

from __future__ import annotations

import pytest

from tests.test_writer import RECORD as WRITER_RECORD
from verifiers import VerdictFacts, WriteupRecord, check_prose

RECORD = WriteupRecord(
    experiments=WRITER_RECORD.experiments,
    verdicts={
        **WRITER_RECORD.verdicts,  # V1, V2: the comparator's accept at Re 100 and revise at Re 400
        3: VerdictFacts(3, "re=100", "mesh-independence", accepting=True, metrics={"change": 0.01}),
        4: VerdictFacts(4, "re=400", "mesh-independence", accepting=False, metrics={"change": 0.2}),
    },
)

CLAIMS = [
    "The error was XII percent [V1].",
    "At Re CD the run passed every gate [V1].",
    "The RMSE was XL.",
    "We ran II experiments [V1].",
    "The solver is validated for industrial use [V1].",
    "These results hold for all Reynolds numbers [V1].",
    "It is ready for production use [V1].",
    "The simulation demonstrates grid convergence [V1].",
    "The solution is mesh-independent, with no doubt [V1].",
    "The results are reproducible [V1].",
    "The flow is physically plausible [V1].",
    "The solution at Re 400 is mesh-independent [V4].",
]

HONEST = [
    "The drag coefficient CD was 0.0042 [V1].",
    "The value of CD was 0.0042 [V1].",
    "In Case II the RMSE was 0.0042 [V1].",
    "I checked the RMSE of 0.0042 [V1].",
    "The solution at Re 100 is mesh-independent [V3].",
    "The mesh-independence gate rejected re=400 [V4].",
    "Mesh independence was not checked for re=100; the RMSE was 0.0042 [V1].",
    "The run was not checked for mesh independence; the RMSE was 0.0042 [V1].",
    "The re=100 run reproduced the reference within 0.0042 [V1].",
]


@pytest.mark.parametrize("prose", CLAIMS)
def test_a_claim_the_verdicts_cannot_carry_is_rejected(prose: str) -> None:
    assert check_prose(prose, RECORD).decision == "reject"


@pytest.mark.parametrize("prose", HONEST)
def test_honest_prose_beside_them_is_accepted(prose: str) -> None:
    result = check_prose(prose, RECORD)
    assert result.decision == "accept", result.reasons
