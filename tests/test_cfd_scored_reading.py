"""What a CFD gate scores comes from the velocity the solver computed, never from a quantity computed in the
process that runs a candidate's compiled model.

A model edit forced the eddy viscosity's wall values on its last iteration: the velocity stayed plain SA to the
byte, while OpenFOAM's wallShearStress (computed in the solver's process from the model's effective viscosity)
fell, and the hill's Cf RMSE read from it gained 6 %: the comparator and the held-out gate accepted. Here the
same effect is made by hand on a plain run (the wall shear scaled by 0.8 after the run): the score and the
held-out quantities must not move, and the reading from the forged file is kept only as the second reader.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runs import ExperimentSpec
from tests.test_cfd_models import HILL_SMALL, local_sandbox
from tools.cfd import CfdWorkload, latest_time
from tools.cfd.cases._hill_metrics import cf_rmse, hill_wall
from verifiers import get_gate
from verifiers._gate import GateContext, run_gate
from verifiers.cfd._heldout import hill_quantities

pytestmark = [pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]

_VECTOR = re.compile(r"\(([-0-9.eE+]+) ([-0-9.eE+]+) ([-0-9.eE+]+)\)")


def _scale_patch(path: Path, patch: str, factor: float) -> None:
    """Multiply every vector of `patch`'s value list in the field file at `path` by `factor`."""
    text = path.read_text()
    start = text.index(patch, text.index("boundaryField"))
    head = text.index("(", text.index("List<vector>", start))
    end = text.index("\n)", head)

    def scaled(match: re.Match[str]) -> str:
        return "(" + " ".join(f"{float(value) * factor:.8g}" for value in match.groups()) + ")"

    path.write_text(text[:head] + _VECTOR.sub(scaled, text[head:end]) + text[end:])


def test_a_wall_shear_forged_after_the_solve_moves_no_score(tmp_path: Path) -> None:
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    spec = ExperimentSpec(key="plain", task_id=task.id, params=dict(HILL_SMALL))

    directory = tmp_path / "plain"
    outcome = workload.run(task, spec, directory, local_sandbox)
    assert outcome.status == "completed", outcome.error
    case = directory / "case"
    params = workload.definition(spec.params).parse(spec.params, task.id)
    before = hill_quantities(case, params)
    honest = hill_wall(case, params)
    assert outcome.metrics["cf_rmse"] == pytest.approx(cf_rmse(honest.x, honest.cf_cells))

    latest = latest_time(case)
    assert latest is not None
    _scale_patch(latest[1] / "wallShearStress", "hills", 0.8)
    forged = hill_wall(case, params)
    assert forged.cf_foam == pytest.approx(0.8 * honest.cf_foam, rel=1e-6)  # the forgery took

    assert hill_quantities(case, params) == before  # the held-out gate's hill quantities
    context = GateContext(
        task=task,
        experiment=spec,
        directory=directory,
        outcome=outcome,
        options=task.gate_options.get("comparator", {}),
        sandbox_factory=local_sandbox,
        prior=[],
    )
    verdict = run_gate(get_gate("comparator"), context)
    assert verdict.metrics["cf_rmse"] == pytest.approx(before["cf_rmse"]), verdict.metrics
    assert verdict.metrics["cf_rmse_wall_shear"] == pytest.approx(cf_rmse(forged.x, forged.cf_foam))
