"""Catalog tasks' parameters at and past their edges: each value here was accepted before and then failed
inside the run (a traceback from the case writer, a timer that cannot hold the number), ran something other
than what the run records (a sweep value or a parameter silently dropped or outvoted, `"yes"` taken for
true), or ran one experiment twice under one key. Each is now refused before anything runs, naming the
parameter, or builds a case whose every number is an ordinary positive double.
"""

from __future__ import annotations

import math
import random
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types
import httpx
import pytest
from pydantic.fields import FieldInfo

from api._settings import Settings, build_catalog
from runs import TaskSpec
from tests.api_server import served_client
from tests.conftest import agent
from tools import Catalog, TaskError, apply_overrides
from tools._search import SearchParameter, SearchSpace
from tools.cfd import CfdWorkload
from tools.cfd.cases._definition import CaseDefinition
from tools.cfd.cases._generic import UserCase


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return build_catalog(Settings())


@pytest.fixture
def server(home: Path) -> Iterator[httpx.Client]:
    settings = Settings(home=home, run_workers=0, max_workers=2)
    with served_client(settings) as client:
        yield client


def _refusal(catalog: Catalog, task: TaskSpec) -> str:
    """The TaskError validating `task` gives (the test fails if it is accepted)."""
    with pytest.raises(TaskError) as refused:
        catalog.validate(task)
    message = str(refused.value)
    assert "\n" not in message and len(message) < 400, message
    return message


def _extended(catalog: Catalog, spec: dict[str, Any]) -> TaskSpec:
    return catalog.from_mapping(spec)


# -- duplicate parameters ---------------------------------------------------------------------------------


def test_two_names_of_one_parameter_are_refused_not_outvoted(catalog: Catalog) -> None:
    """Before: `params: {re: 100, Re: 5000}` ran Re 5000 (the case folds names) while the run recorded both."""
    task = _extended(catalog, {"extends": "cfd/cavity", "params": {"re": 100, "Re": 5000}})
    message = _refusal(catalog, task)
    assert "'re'" in message and "'Re'" in message
    swept = _extended(catalog, {"extends": "cfd/cavity", "sweep": {"re": [100], "RE": [400]}})
    assert "'RE'" in _refusal(catalog, swept)


def test_two_names_of_one_parameter_are_a_422(server: httpx.Client) -> None:
    response = server.post("/runs", json={"spec": {"extends": "cfd/poiseuille", "params": {"cells": 8, "Cells": 40}}})
    assert response.status_code == 422, response.text
    assert "'Cells'" in response.json()["message"]
    assert server.get("/runs").json()["total"] == 0


@pytest.mark.parametrize(
    ("task_id", "param", "named"),
    [
        ("cfd/cavity", "re=100,100", "sweep.re"),
        ("cfd/cavity", "re=400,400.0", "sweep.re"),
        ("proofs/minif2f-valid", "problem=mathd_algebra_10,mathd_algebra_10", "sweep.problem"),
    ],
)
def test_a_sweep_listing_a_value_twice_is_refused(catalog: Catalog, task_id: str, param: str, named: str) -> None:
    """Before: both experiments got one key; the second was taken for the first (its directory wiped and
    written by both at once) and the run reported two experiments of one."""
    task = apply_overrides(catalog.get(task_id), params=[param])
    assert named in _refusal(catalog, task)


@pytest.mark.parametrize(
    "given",
    [["re=100", "re=200"], ["re=100", "Re=200"], ["cells=32", "re=100", "cells=64"], ["re=100,400", "re=1000"]],
)
def test_a_parameter_given_twice_on_the_command_line_is_refused(catalog: Catalog, given: list[str]) -> None:
    """Before: `--param re=100 --param re=200` ran Re 200 alone, the first value dropped without a word."""
    with pytest.raises(TaskError, match=r"is given twice .* give it once"):
        apply_overrides(catalog.get("cfd/cavity"), params=given)


def test_different_parameters_each_once_are_all_applied(catalog: Catalog) -> None:
    task = apply_overrides(catalog.get("cfd/cavity"), params=["re=100", "cells=32"])
    assert task.sweep.get("re", [task.params.get("re")]) == [100] and task.params["cells"] == 32


# -- sweeps the plan never carried ------------------------------------------------------------------------


def test_a_swept_proof_budget_is_refused_not_dropped(catalog: Catalog) -> None:
    """Before: `--param attempts=1,2` on a miniF2F set passed validation and every problem ran with the
    default 48 attempts, the run recording the sweep as asked."""
    task = apply_overrides(catalog.get("proofs/minif2f-valid"), params=["attempts=1,2"])
    assert "sweep.attempts" in _refusal(catalog, task)


def test_a_sweep_beside_a_coefficient_search_is_refused(catalog: Catalog) -> None:
    """Before: the search planned only its baseline, so the swept Re values never ran."""
    task = _extended(
        catalog, {"extends": "cfd/periodic-hill", "params": {"search": {"runs": 4}}, "sweep": {"re": [5600, 10_000]}}
    )
    assert "sweep.re" in _refusal(catalog, task)


# -- CFD parameter models: every corner builds a case of ordinary numbers ---------------------------------

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])|\b(?:inf|nan|Infinity|NaN)\b")


def _bounds(info: FieldInfo) -> tuple[float, float]:
    """The smallest and largest value a numeric field admits (the next double past a strict bound)."""
    low, high = -1e308, 1e308
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = float(typing.cast(float, item.ge))
        elif isinstance(item, annotated_types.Gt):
            low = math.nextafter(float(typing.cast(float, item.gt)), math.inf)
        elif isinstance(item, annotated_types.Le):
            high = float(typing.cast(float, item.le))
        elif isinstance(item, annotated_types.Lt):
            high = math.nextafter(float(typing.cast(float, item.lt)), -math.inf)
    if info.annotation is int or "int" in str(info.annotation):
        return float(math.ceil(low)), float(math.floor(high))
    return low, high


def _edges(definition: CaseDefinition[Any]) -> dict[str, list[float | int]]:
    """Each numeric parameter's two extremes, as its own type."""
    edges: dict[str, list[float | int]] = {}
    for name, info in definition.params_model.model_fields.items():
        kinds = str(info.annotation)
        if "float" not in kinds and "int" not in kinds:
            continue
        low, high = _bounds(info)
        integer = "int" in kinds and "float" not in kinds
        edges[name] = [int(low), int(high)] if integer else [low, high]
    return edges


def _corners(definition: CaseDefinition[Any], count: int) -> Iterator[dict[str, Any]]:
    """Each edge alone, then `count` random mixes of edges and defaults (seeded: the same every run)."""
    edges = _edges(definition)
    for name, values in edges.items():
        for value in values:
            yield {name: value}
    chooser = random.Random(definition.kind)
    for _ in range(count):
        yield {name: chooser.choice(values) for name, values in edges.items() if chooser.random() < 0.6}


def _problems_in(files: dict[str, str]) -> list[str]:
    """Numbers in the case that no solver can take: non-finite, or a viscosity or time step that is not > 0."""
    found = []
    for path, text in files.items():
        for token in _NUMBER.findall(text):
            if not math.isfinite(float(token.replace("Infinity", "inf"))):
                found.append(f"{path}: {token}")
    control = files.get("system/controlDict", "")
    for key in ("deltaT", "endTime"):
        match = re.search(rf"^\s*{key}\s+(\S+);", control, re.MULTILINE)
        if match and not float(match.group(1)) > 0:
            found.append(f"system/controlDict: {key} {match.group(1)}")
    transport = files.get("constant/transportProperties", "")
    match = re.search(r"^\s*nu\s+(?:nu\s+)?\[[^\]]*\]\s+(\S+);", transport, re.MULTILINE)
    if match and not float(match.group(1)) > 0:
        found.append(f"constant/transportProperties: nu {match.group(1)}")
    return found


@pytest.mark.parametrize("kind", ["cavity", "poiseuille", "periodic-hill", "backward-step", "flat-plate"])
def test_every_accepted_corner_of_a_case_builds_ordinary_numbers(catalog: Catalog, kind: str) -> None:
    """Before: accepted values failed when the case was written (poiseuille Ub 0: ValueError; Ub 1e300 at
    Re 1e-300: nu inf; hill wall_cell 1e-300: OverflowError; step U 1e-300: ZeroDivisionError; cavity
    delta_t 5e-324: OverflowError from validation itself) or wrote nu 0 (U and L 1e-300)."""
    definition = catalog.workloads["cfd"].definitions[kind]  # type: ignore[attr-defined]
    failures = []
    for corner in _corners(definition, 150):
        params = {"case": kind, **corner}
        try:
            parsed = definition.parse(params, f"cfd/{kind}")
        except TaskError:
            continue  # refused before anything runs: what an unusable corner should get
        try:
            problems = _problems_in(definition.files(parsed))
        except Exception as error:  # noqa: BLE001 - any exception here is the defect being looked for
            problems = [f"{type(error).__name__}: {error}"]
        failures += [f"{corner}: {problem}" for problem in problems[:1]]
    assert not failures, failures[:5]


def test_a_time_step_past_a_snapshot_interval_is_refused_not_shortened(catalog: Catalog) -> None:
    """Before: delta_t 1e300 ran with the step cut to end time / snapshots, the run recording 1e300."""
    task = apply_overrides(catalog.get("cfd/cavity"), params=["delta_t=1e300"])
    message = _refusal(catalog, task)
    assert "delta_t" in message and "snapshot interval" in message


def test_a_tiny_time_step_is_refused_in_one_short_line(catalog: Catalog) -> None:
    """Before: 1e-300 printed a 300-digit step count; 5e-324 raised OverflowError out of validation."""
    for value in ("1e-300", "5e-324"):
        task = apply_overrides(catalog.get("cfd/cavity"), params=[f"delta_t={value}"])
        assert "time steps requested" in _refusal(catalog, task)


# -- search settings ---------------------------------------------------------------------------------------


def _space(**changes: Any) -> SearchSpace:
    settings: dict[str, Any] = {
        "key": "sa",
        "parameters": [SearchParameter(name="Cb1", default=0.1355, low=0.1, high=0.2)],
        "objective_gate": "comparator",
        "objective_metric": "cf_rmse",
        "runs": 4,
        "population": 2,
    }
    return SearchSpace(**{**settings, **changes})


@pytest.mark.parametrize("seed", [-1, 2**32, 2**70])
def test_a_search_seed_the_proposer_cannot_take_is_refused_in_one_line(seed: int) -> None:
    """Before: accepted, then CMA-ES raised 'Seed must be between 0 and 2**32 - 1' inside the run."""
    with pytest.raises(ValueError, match=r"^seed: ") as refused:
        _space(seed=seed)
    assert "\n" not in str(refused.value)


def test_a_search_coordinate_given_twice_is_refused() -> None:
    twice = [SearchParameter(name="Cb1", default=0.1355, low=0.1, high=0.2)] * 2
    with pytest.raises(ValueError, match="Cb1 listed more than once"):
        _space(parameters=twice)


def test_search_settings_reach_the_user_as_one_line(catalog: Catalog) -> None:
    """Before: pydantic's multi-line text with a link to its docs."""
    task = _extended(catalog, {"extends": "cfd/periodic-hill", "params": {"search": {"seed": -1}}})
    assert "seed" in _refusal(catalog, task)


# -- proof parameters --------------------------------------------------------------------------------------

PROBLEM = "proofs/minif2f-valid/mathd_algebra_10"


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"library": "yes"}, "library"),
        ({"library": 1}, "library"),
        ({"seconds": True}, "seconds"),
        ({"attempts": "5"}, "attempts"),
        ({"reply_tokens": "512"}, "reply_tokens"),
        ({"reply_tokens": 8}, "reply_tokens"),
        ({"reply_tokens": 10**9}, "reply_tokens"),
    ],
)
def test_proof_parameters_are_taken_as_the_type_given(catalog: Catalog, params: dict[str, Any], named: str) -> None:
    """Before: `library: "yes"` ran as true and `seconds: true` as 1 s, the run recording the text and boolean."""
    task = _extended(catalog, {"extends": PROBLEM, "params": params})
    assert named in _refusal(catalog, task)


@pytest.mark.parametrize("name", ["seconds", "step_seconds", "tactic_seconds"])
def test_a_proof_time_limit_no_timer_can_hold_is_refused(catalog: Catalog, name: str) -> None:
    """Before: 1e308 s was accepted; a timer or subprocess timeout of it raises OverflowError mid-run."""
    task = apply_overrides(catalog.get(PROBLEM), params=[f"{name}=1e308"])
    assert name in _refusal(catalog, task)


@pytest.mark.parametrize("value", ["0", "1e-300", "1e308"])
def test_a_channel_without_a_usable_bulk_velocity_is_refused(catalog: Catalog, value: str) -> None:
    """Before: Ub 0 passed validation and failed as the case was written ('bulk_velocity must not be zero');
    1e308 had no bound at all."""
    task = apply_overrides(catalog.get("cfd/poiseuille"), params=[f"bulk_velocity={value}"])
    assert "bulk_velocity" in _refusal(catalog, task)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"parameters": [1]}, "list of names"),
        ({"parameters": [["Cb1"]]}, "list of names"),
        ({"runs": 10.5}, "runs: 10.5 is not a whole number"),
        ({"population": True}, "population: True is not a whole number"),
        ({"seed": "5"}, "seed: '5' is not a whole number"),
    ],
)
def test_hill_search_settings_of_the_wrong_type_are_named_not_converted(settings: dict[str, Any], named: str) -> None:
    """`parameters: [1]` raised a TypeError (a traceback on the CLI, a 500 over REST); 10.5 runs, `true` and
    "5" were converted while the run recorded what was written."""
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    with pytest.raises(TaskError, match=re.escape(named)):
        workload.search_space(task.model_copy(update={"params": {**task.params, "search": settings}}))


@pytest.mark.parametrize(("name", "value"), [("seconds", 1e308), ("eval_timeout", 1e308), ("migrate_every", 2**63)])
def test_kernel_search_limits_no_timer_can_hold_are_refused(catalog: Catalog, name: str, value: float) -> None:
    """A deadline of 1e308 s overflowed `thread.join` and `select` in the middle of the search."""
    task = apply_overrides(catalog.get("kernels/saxpy"), params=[f"{name}={value!r}"])
    with pytest.raises(TaskError, match=name):
        catalog.validate(task)


def test_a_user_velocity_scale_no_field_could_exceed_is_refused() -> None:
    """u_ref = 1e308 made the physical-range gate's |U| <= 3 u_ref a check no case can fail."""
    with pytest.raises(TaskError, match="u_ref"):
        UserCase().parse({"u_ref": 1e308})
    assert UserCase().parse({"u_ref": 340.0}).u_ref == 340.0


def test_an_unknown_proof_skeleton_is_refused_before_the_run(home: Path) -> None:
    """`skeletons=nosuch` was only found inside the run, which then 'finished' with nothing accepted."""
    task = "proofs/minif2f-valid/mathd_algebra_10"
    result = agent("run", task, "--param", "skeletons=nosuch", "--param", "seconds=5", home=home)
    assert result.returncode == 2, result.stderr
    assert "params.skeletons: unknown skeleton(s) nosuch for coq" in result.stderr
    assert not list(home.glob("runs/*/experiments/*")), "nothing ran"
