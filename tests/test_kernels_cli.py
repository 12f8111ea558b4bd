"""The kernel workload as a user meets it: `agent eval-kernel` and `agent run kernels/<task>`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import agent
from tools.kernels import SUITE


@pytest.fixture(scope="module")
def kernel_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One ceilings cache for the module's subprocesses, so the device is probed once."""
    return {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


def test_eval_kernel_bad_input_is_one_line(home: Path, tmp_path: Path) -> None:
    kernel = tmp_path / "k.cl"
    kernel.write_text(SUITE["saxpy"].seed)
    empty = tmp_path / "empty.cl"
    empty.write_text("  \n")
    for args, message in (
        (["eval-kernel", "kernels/nope", str(kernel)], "unknown kernel task 'kernels/nope'"),
        (["eval-kernel", "kernels/saxpy", str(tmp_path / "missing.cl")], "cannot read kernel file"),
        (["eval-kernel", "kernels/saxpy", str(empty)], "is empty"),
    ):
        result = agent(*args, home=home)
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.opencl
def test_eval_kernel_rejects_a_kernel_hard_coded_for_square_grids(
    opencl: None, home: Path, tmp_path: Path, kernel_cache: dict[str, str]
) -> None:
    square = (
        SUITE["heat2d"]
        .seed.replace("int x0 = get_global_id(0) * VEC;", "int x0 = get_global_id(0) * VEC;\n    const int rows = nx;")
        .replace("y == ny - 1", "y == rows - 1")
    )
    kernel = tmp_path / "square.cl"
    kernel.write_text(square)
    result = agent("eval-kernel", "kernels/heat2d", str(kernel), "--json", home=home, env=kernel_cache)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["decision"] == "reject"
    assert report["status"] == "ok" and report["fitness"] > 0
    assert all(size["correct"] for size in report["sizes"])
    assert report["heldout"]["decision"] == "reject"
    assert [size["correct"] for size in report["heldout"]["sizes"]] == [True, False]
    assert any("never saw" in reason and "heldout-rect" in reason for reason in report["reasons"])


@pytest.mark.slow
@pytest.mark.opencl
def test_agent_runs_a_kernel_search_and_the_gates_judge_the_winner(
    opencl: None, home: Path, kernel_cache: dict[str, str]
) -> None:
    result = agent(
        "run",
        "kernels/saxpy",
        "--param",
        "evaluations=6",
        "--param",
        "search=one-plus-one",
        "--json",
        home=home,
        env=kernel_cache,
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert summary["status"] == "finished"
    gates = {verdict["gate"]: verdict for verdict in summary["verdicts"]}
    assert set(gates) == {"kernel-correctness", "kernel-heldout"}
    assert summary["accepted"] == ["search"], gates
    experiment = Path(summary["report"]).parent / "experiments" / "search"
    log = [json.loads(line) for line in (experiment / "search.jsonl").read_text().splitlines()]
    assert len(log) == 6 and log[0]["note"] == "seed"
    assert len({entry["input_seed"] for entry in log}) == 6
    winner = (experiment / "candidate.cl").read_text()
    assert SUITE["saxpy"].parse(winner).params
    report = Path(summary["report"]).read_text()
    assert "held-out speedup over seed" in report and "kernel-heldout" in report
