"""CFD pieces that need no solver: dictionary reading, geometry, references, search and vision adapters."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from agents._vision import llm_vision_judge
from agents.cfd_search import CmaesProposer, LlmHypothesisProposer, Observation
from agents.llm import Completion, Message, Usage
from tests.conftest import agent
from tools import TaskError, apply_overrides
from tools.cfd import CfdWorkload
from tools.cfd.cases._hill import bulk_to_volume_mean, hill_height
from tools.cfd.cases._reference import flat_plate_cf, hill_cf_reference, hill_profile_reference
from tools.cfd.openfoam._foamread import parse_foam_dict
from tools.cfd.openfoam._wall import separation_and_reattachment
from verifiers import VisionVerdict


def test_foam_dictionaries_read_back_without_running_directives() -> None:
    text = """FoamFile { version 2.0; class dictionary; }
    // comment
    nu [0 2 -1 0 0 0 0] 1e-05;
    #include "/etc/passwd"
    RAS { RASModel kEpsilon; kEpsilonCoeffs { Cmu 0.09; } }
    blocks ( hex (0 1 2 3 4 5 6 7) (20 30 1) simpleGrading (1 1 1) );
    """
    parsed = parse_foam_dict(text)
    assert parsed["nu"][-1] == "1e-05"
    assert parsed["RAS"]["kEpsilonCoeffs"]["Cmu"] == "0.09"
    assert parsed["blocks"][2] == ["20", "30", "1"]
    assert parsed["#directives"] == ['#include "/etc/passwd"']


def test_hill_geometry_matches_its_definition() -> None:
    assert hill_height(0.0)[0] == pytest.approx(1.0)
    assert hill_height(9.0)[0] == pytest.approx(1.0)
    assert hill_height(4.5)[0] == pytest.approx(0.0)
    x = np.linspace(0, 9, 901)
    assert np.all(np.diff(hill_height(x[x <= 1.93])) <= 1e-12)  # falls monotonically from the crest
    assert np.allclose(hill_height(x), hill_height(9 - x))  # symmetric
    assert bulk_to_volume_mean() == pytest.approx(0.721, abs=0.003)  # the DNS authors' Ubar/Ub ratio


def test_reference_tables_carry_their_sources() -> None:
    x, cf = hill_cf_reference()
    separation, reattachment = separation_and_reattachment(x, cf)
    assert separation == pytest.approx(0.22, abs=0.02) and reattachment == pytest.approx(4.62, abs=0.02)
    assert sorted(hill_profile_reference()) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    data = Path(__file__).resolve().parent.parent / "tools" / "cfd" / "data"
    assert "10.1016/j.compfluid.2020.104431" in (data / "xiao2020_hill_cf.csv").read_text()
    assert "10.2514/3.8290" in (data / "pitzdaily1983_reattachment.csv").read_text()
    assert flat_plate_cf(np.array([1e6]))[0] == pytest.approx(0.455 / np.log(6e4) ** 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "re=-100"], "re: Input should be greater than 1000"),
        (["--param", "model=kOmega"], "model: Input should be 'kEpsilon', 'kOmegaSST' or 'SpalartAllmaras'"),
    ],
)
def test_step_parameters_are_validated(home: Path, args: list[str], message: str) -> None:
    result = agent("run", "cfd/backward-step", *args, home=home)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_unknown_turbulence_model_and_negative_viscosity_are_named() -> None:
    workload = CfdWorkload()
    hill = next(task for task in workload.tasks() if task.id == "cfd/periodic-hill")
    with pytest.raises(TaskError, match="model: Input should be"):
        workload.validate(hill.model_copy(update={"params": {**hill.params, "model": "kOmega"}}))
    with pytest.raises(TaskError, match="Cb1: Input should be greater than 0"):
        workload.validate(hill.model_copy(update={"params": {**hill.params, "sa": {"Cb1": -1}}}))
    channel = next(task for task in workload.tasks() if task.id == "cfd/poiseuille")
    swept = apply_overrides(channel, params=["Re=-3,100"])
    assert swept.sweep["re"] == [-3, 100]
    with pytest.raises(TaskError, match=r"re: Input should be greater than 0"):
        workload.validate(swept)
    with pytest.raises(TaskError, match=r"params\.search: unknown field"):
        workload.validate(hill.model_copy(update={"params": {**hill.params, "search": {"budget": 3}}}))


def _space() -> Any:
    workload = CfdWorkload()
    hill = next(task for task in workload.tasks() if task.id == "cfd/periodic-hill")
    space = workload.search_space(hill)
    assert space is not None
    return space


def test_cmaes_replays_deterministically_and_stays_in_bounds() -> None:
    space = _space()
    proposer = CmaesProposer()
    first = proposer.propose(space, [], 2, 0.003)
    again = proposer.propose(space, [], 2, 0.003)
    assert first == again and len(first) == 2
    for values, why in first:
        assert "CMA-ES generation 1" in why
        for parameter in space.parameters:
            assert parameter.low <= values[parameter.name] <= parameter.high
    history = [Observation(f"cand-00{i + 1}", values, 0.003 + i * 1e-4) for i, (values, _) in enumerate(first)]
    second = proposer.propose(space, history, 2, 0.003)
    assert "generation 2" in second[0][1] and second != first
    assert proposer.propose(space, history, 2, 0.003) == second


class FakeLLM:
    """A minimal object implementing the LLM protocol, answering with canned structured replies."""

    def __init__(self, reply: BaseModel) -> None:
        self.reply = reply
        self.seen: list[Sequence[Message]] = []
        self._usage = Usage()

    @property
    def model(self) -> str:
        return "fake"

    @property
    def usage(self) -> Usage:
        return self._usage

    def complete(self, messages: Sequence[Message], **_: Any) -> Completion:
        return Completion(text=self.reply.model_dump_json(), model="fake")

    def structured(self, messages: Sequence[Message], schema: type[Any], **_: Any) -> Any:
        self.seen.append(messages)
        return schema.model_validate(json.loads(self.reply.model_dump_json()))


class SequenceLLM(FakeLLM):
    """Structured replies from a list, in order (the last repeats); keeps every conversation it was sent."""

    def __init__(self, replies: list[BaseModel]) -> None:
        super().__init__(replies[0])
        self.replies = replies

    def structured(self, messages: Sequence[Message], schema: type[Any], **_: Any) -> Any:
        self.reply = self.replies[min(len(self.seen), len(self.replies) - 1)]
        return super().structured(messages, schema)


def test_llm_hypotheses_outside_the_box_go_back_to_the_model_not_clamped() -> None:
    from agents.cfd_search import Hypothesis, HypothesisBatch

    space = _space()
    wrong = HypothesisBatch(hypotheses=[Hypothesis(values={"Cb1": 99.0}, rationale="much more production")])
    right = HypothesisBatch(hypotheses=[Hypothesis(values={"Cb1": 0.2}, rationale="a little more production")])
    llm = SequenceLLM([wrong, right])
    proposer = LlmHypothesisProposer(llm, "fit Cf")
    proposals = proposer.propose(space, [], 1, 0.003)
    assert len(llm.seen) == 2
    told = llm.seen[1][-1].content
    assert "Cb1 = 99 outside [" in told and "none of them was run" in told
    values, why = proposals[0]
    assert values["Cb1"] == 0.2 and why == "LLM hypothesis: a little more production"
    defaults = {p.name: p.default for p in space.parameters if p.name != "Cb1"}
    assert {k: v for k, v in values.items() if k != "Cb1"} == defaults


def test_the_reply_schema_names_only_the_boxs_coefficients() -> None:
    from agents.cfd_search import batch_schema, violations

    space = _space()
    schema = batch_schema(space).model_json_schema()
    values = schema["$defs"]["Coefficients"]
    assert values["additionalProperties"] is False
    assert set(values["properties"]) == {p.name for p in space.parameters}
    assert violations(space, {"Cfoo": 1.0, "Cb1": float("nan")}) == [
        "unknown coefficient 'Cfoo' (known: " + ", ".join(p.name for p in space.parameters) + ")",
        "Cb1 = NaN is not a number",
    ]


def test_llm_hypotheses_still_outside_the_box_are_replaced_by_the_optimiser_saying_why() -> None:
    from agents.cfd_search import Hypothesis, HypothesisBatch

    space = _space()
    llm = SequenceLLM([HypothesisBatch(hypotheses=[Hypothesis(values={"Cb1": -5.0}, rationale="negative")])])
    proposals = LlmHypothesisProposer(llm, "fit Cf").propose(space, [], 2, 0.003)
    assert len(llm.seen) == 3  # the first reply and two corrections
    assert len(proposals) == 2
    for values, why in proposals:
        assert why.startswith("CMA-ES generation 1") and "in place of an LLM hypothesis" in why and "Cb1 = -5" in why
        assert all(p.low <= values[p.name] <= p.high for p in space.parameters)


def test_an_llm_without_a_usable_reply_does_not_stop_the_search() -> None:
    from agents.llm import LLMError

    class Broken(FakeLLM):
        def structured(self, messages: Sequence[Message], schema: type[Any], **_: Any) -> Any:
            raise LLMError("no valid HypothesisBatch after 3 replies: (root): Input should be an object")

    space = _space()
    proposals = LlmHypothesisProposer(Broken(VisionVerdict(decision="accept")), "fit Cf").propose(space, [], 1, 0.003)
    assert len(proposals) == 1 and "the LLM gave no usable hypotheses (no valid HypothesisBatch" in proposals[0][1]


def test_vision_judge_sends_images_and_parses_the_verdict(tmp_path: Path) -> None:
    image = tmp_path / "fields.png"
    image.write_bytes(b"png")
    llm = FakeLLM(VisionVerdict(decision="revise", reasons=["no recirculation behind the step"]))
    verdict = llm_vision_judge(llm)("the flow must separate", [image])
    assert verdict.decision == "revise" and verdict.reasons == ["no recirculation behind the step"]
    user = llm.seen[0][-1]
    assert user.images == (image,) and "the flow must separate" in user.content
