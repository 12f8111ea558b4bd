"""The `agent` command line as a user meets it: JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import agent


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected a one-line error, got: {stderr!r}"
    assert "Traceback" not in stderr
    return lines[0]


def test_tasks_lists_the_catalog(home: Path) -> None:
    result = agent("tasks", "--json", home=home)
    assert result.returncode == 0
    tasks = {item["id"]: item for item in json.loads(result.stdout)}
    assert tasks["cfd/cavity"]["workload"] == "cfd"
    assert tasks["cfd/cavity"]["gates"] == ["solver-log", "deliverables", "comparator"]


def test_unknown_task_is_bad_input_and_recorded_as_failed(home: Path) -> None:
    result = agent("run", "cfd/nope", "--json", home=home)
    assert result.returncode == 2
    assert "unknown task 'cfd/nope'" in _one_line(result.stderr)
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed" and "unknown task" in summary["reason"]
    listed = json.loads(agent("runs", "--json", home=home).stdout)
    assert listed[0]["run_id"] == summary["run_id"] and listed[0]["status"] == "failed"


def test_malformed_task_file_is_bad_input(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "task.yaml"
    broken.write_text("id: cfd/x\nworkload: [unclosed\n")
    result = agent("run", str(broken), home=home)
    assert result.returncode == 2
    assert "malformed" in _one_line(result.stderr)
    missing = agent("run", str(tmp_path / "absent.yaml"), home=home)
    assert missing.returncode == 2
    assert "cannot read task file" in _one_line(missing.stderr)


def test_invalid_task_file_names_the_field(home: Path, tmp_path: Path) -> None:
    task = tmp_path / "task.yaml"
    task.write_text("extends: cfd/cavity\nparams:\n  viscosity: -1\n")
    result = agent("run", str(task), home=home)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "viscosity" in line and "unknown field" in line


def test_invalid_parameter_values_are_explained(home: Path) -> None:
    result = agent("run", "cfd/cavity", "--param", "re=-100", home=home)
    assert result.returncode == 2
    assert "re: Input should be greater than 0" in _one_line(result.stderr)
    result = agent("run", "cfd/cavity", "--param", "oops", home=home)
    assert result.returncode == 2
    assert "name=value" in _one_line(result.stderr)


def test_bad_options_exit_2_with_one_line(home: Path) -> None:
    for args in (
        ["run", "cfd/cavity", "--sandbox", "nowhere"],
        ["run", "cfd/cavity", "--budget", "0"],
        ["runs", "--bogus"],
    ):
        result = agent(*args, home=home)
        assert result.returncode == 2, args
        _one_line(result.stderr)


def test_show_unknown_run(home: Path) -> None:
    result = agent("show", "does-not-exist", home=home)
    assert result.returncode == 2
    assert "no run with id" in _one_line(result.stderr)


def test_runs_json_is_an_empty_list_on_a_fresh_home(home: Path) -> None:
    result = agent("runs", "--json", home=home)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []
