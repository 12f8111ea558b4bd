"""Bad input from a ninth pass: files that are no regular files, values nested past any reader, store folders
that are files, launch grids that name no work. Each must end as one clear error naming the problem (exit 2),
never a hang, a traceback or a run that blames the seed for the task's own mistake."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
import yaml

from tests.conftest import agent

CONV1D = Path(__file__).resolve().parent.parent / "tools" / "kernels" / "examples" / "conv1d"


def _fail_cleanly(result: object, *phrases: str) -> None:
    out = f"{getattr(result, 'stdout', '')}{getattr(result, 'stderr', '')}"
    assert getattr(result, "returncode", None) == 2, out
    assert "Traceback" not in out, out
    for phrase in phrases:
        assert phrase in out, out


def _conv1d(where: Path) -> Path:
    shutil.copytree(CONV1D, where)
    return where


def test_a_fifo_named_as_a_kernel_task_s_seed_is_refused_not_waited_on(tmp_path: Path) -> None:
    folder = _conv1d(tmp_path / "conv1d")
    (folder / "seed.cl").unlink()
    os.mkfifo(folder / "seed.cl")
    candidate = tmp_path / "candidate.cl"
    candidate.write_text((CONV1D / "seed.cl").read_text())
    result = agent("check", str(folder / "task.yaml"), str(candidate), home=tmp_path / "home", timeout=60)
    _fail_cleanly(result, "seed.cl", "not a regular file")


@pytest.mark.parametrize("kind", ["fifo", "device", "loop"])
def test_agent_check_refuses_a_path_that_is_no_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "candidate.cl"
    if kind == "fifo":
        os.mkfifo(path)
        # Were the FIFO opened for reading, this writer would let the read end instead of hanging the test.
        threading.Thread(target=lambda: _release(path), daemon=True).start()
    elif kind == "device":
        path = Path("/dev/zero")
    else:
        (tmp_path / "other.cl").symlink_to(path)
        path.symlink_to(tmp_path / "other.cl")
    result = agent("check", "kernels/saxpy", str(path), home=tmp_path / "home", timeout=120)
    _fail_cleanly(result, "cannot read")


def _release(path: Path) -> None:
    import time

    time.sleep(30)
    with open(path, "w") as pipe:
        pipe.write("x")


def test_a_gate_option_nested_past_any_reader_is_named(tmp_path: Path) -> None:
    nested = "[" * 3000 + "]" * 3000
    result = agent(
        "check",
        "kernels/saxpy",
        str(CONV1D / "seed.cl"),
        "--gate-option",
        f"kernel-correctness.rtol={nested}",
        home=tmp_path / "home",
        timeout=120,
    )
    _fail_cleanly(result, "nests deeper")


def test_a_notebook_nested_past_any_reader_is_named(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "paper.ipynb").write_text('{"cells":' + "[" * 2000 + "]" * 2000 + "}")
    result = agent("plan", "--docs", str(docs), "validate the solver on the cavity", home=tmp_path / "home")
    _fail_cleanly(result, "paper.ipynb", "nests deeper")


@pytest.mark.parametrize("folder", ["artifacts", "checks"])
def test_a_store_folder_that_is_a_file_is_named(tmp_path: Path, folder: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / folder).write_text("not a folder")
    result = agent("check", "kernels/saxpy", str(CONV1D / "seed.cl"), home=home, timeout=120)
    _fail_cleanly(result, folder, "not a folder")
    assert (home / folder).read_text() == "not a folder"  # nothing stored is replaced


@pytest.mark.parametrize("extent", ["-n", "0"])
def test_a_launch_grid_naming_no_work_is_refused_with_the_task(tmp_path: Path, extent: str) -> None:
    folder = _conv1d(tmp_path / "conv1d")
    task = yaml.safe_load((folder / "task.yaml").read_text())
    task["params"]["definition"]["launches"][0]["global"] = [extent]
    (folder / "task.yaml").write_text(yaml.safe_dump(task))
    result = agent("check", str(folder / "task.yaml"), str(folder / "seed.cl"), home=tmp_path / "home", timeout=60)
    _fail_cleanly(result, "launches[0].global", "at least 1")


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [("spec", "not json", "not json"), ("created_at", "garbage", "garbage"), ("finished_at", "13/13/13", "13/13/13")],
)
def test_a_damaged_record_is_named_by_the_cli_and_the_api(tmp_path: Path, column: str, value: str, shown: str) -> None:
    """One run whose JSON column (or time column) was overwritten by something other than labgate made
    every listing a traceback or a 500 while /healthz said the database was fine."""
    import sqlite3

    from api._settings import Settings
    from runs import RunStore, TaskSpec
    from tests.api_server import served_client

    home = tmp_path / "home"
    store = RunStore(home)
    run = store.create_run(TaskSpec(id="cfd/damaged", workload="cfd", params={"case": "cavity"}))
    store.engine.dispose()
    with sqlite3.connect(home / "labgate.db") as database:
        database.execute(f"update run set {column} = ? where id = ?", (value, run.id))
    result = agent("runs", home=home, timeout=60)
    _fail_cleanly(result, "damaged", shown)
    settings = Settings(home=home, run_workers=0, max_workers=2)
    with served_client(settings) as client:
        answer = client.get("/runs")
        assert answer.status_code == 503, answer.text
        assert "damaged" in answer.json()["detail"], answer.text


def test_a_damaged_checkpoint_file_leaves_a_paused_run_paused(tmp_path: Path) -> None:
    """`agent approve` on a home whose checkpoints.sqlite was damaged recorded the paused run as failed, for
    good ("internal error: DatabaseError"), and never named the file."""
    import json

    home = tmp_path / "home"
    started = agent("run", str(CONV1D / "task.yaml"), "--approve-plan", "--json", home=home, timeout=300)
    run = json.loads(started.stdout)
    assert run["status"] == "paused", started.stdout + started.stderr
    checkpoints = home / "checkpoints.sqlite"
    good = checkpoints.read_bytes()
    checkpoints.write_bytes(os.urandom(5000))
    _fail_cleanly(agent("approve", run["run_id"], home=home, timeout=120), "checkpoints.sqlite", "not a database")
    checkpoints.write_bytes(good)
    shown = json.loads(agent("show", run["run_id"], "--json", home=home, timeout=60).stdout)
    assert shown["status"] == "paused", shown


def test_a_local_path_named_like_a_catalog_task_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A results folder `cfd/cavity/` hid the catalog task; a file `kernels/saxpy` was read with no word of it."""
    from api._settings import Settings, build_catalog
    from tools import TaskError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfd" / "cavity").mkdir(parents=True)
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "saxpy").write_text("")
    catalog = build_catalog(Settings(home=tmp_path / "home"))
    assert catalog.load("cfd/cavity").id == "cfd/cavity"  # the folder is no task file: the id is meant
    with pytest.raises(TaskError, match="also a catalog task"):
        catalog.load("kernels/saxpy")


@pytest.mark.parametrize(("field", "value"), [("bytes", "-5"), ("bytes", "0"), ("flops", "-1")])
def test_work_a_kernel_cannot_do_is_refused_with_the_task(tmp_path: Path, field: str, value: str) -> None:
    """Negative bytes gave negative GB/s, and the physics floor (a run faster than its bytes allow) then held
    nothing back."""
    folder = _conv1d(tmp_path / "conv1d")
    task = yaml.safe_load((folder / "task.yaml").read_text())
    task["params"]["definition"]["work"][field] = value
    (folder / "task.yaml").write_text(yaml.safe_dump(task))
    result = agent("check", str(folder / "task.yaml"), str(folder / "seed.cl"), home=tmp_path / "home", timeout=60)
    _fail_cleanly(result, f"work.{field}")


def test_a_size_that_is_no_integer_is_refused(tmp_path: Path) -> None:
    """`n: true` was read as n = 1."""
    folder = _conv1d(tmp_path / "conv1d")
    task = yaml.safe_load((folder / "task.yaml").read_text())
    task["params"]["definition"]["sizes"]["small"]["n"] = True
    (folder / "task.yaml").write_text(yaml.safe_dump(task))
    result = agent("check", str(folder / "task.yaml"), str(folder / "seed.cl"), home=tmp_path / "home", timeout=60)
    _fail_cleanly(result, "sizes")


def test_a_gate_option_naming_a_key_twice_is_refused(tmp_path: Path) -> None:
    result = agent(
        "check",
        "kernels/saxpy",
        str(CONV1D / "seed.cl"),
        "--gate-option",
        'kernel-correctness.rtol={"u": 1, "u": 5}',
        home=tmp_path / "home",
        timeout=120,
    )
    _fail_cleanly(result, "'u' more than once")


def test_approving_a_plan_whose_checkpoint_is_gone_is_refused_and_the_run_stays_paused(tmp_path: Path) -> None:
    """With checkpoints.sqlite missing, `agent approve` planned the run again, paused it again and exited 0:
    the approval was thrown away without a word."""
    import json

    home = tmp_path / "home"
    started = agent("run", str(CONV1D / "task.yaml"), "--approve-plan", "--json", home=home, timeout=300)
    run = json.loads(started.stdout)
    assert run["status"] == "paused", started.stdout + started.stderr
    checkpoints = home / "checkpoints.sqlite"
    kept = checkpoints.rename(tmp_path / "kept.sqlite")
    _fail_cleanly(agent("approve", run["run_id"], home=home, timeout=120), "checkpoints", "missing", "stays paused")
    import httpx

    from api._settings import Settings
    from tests.api_server import serve_in_thread

    settings = Settings(home=home, run_workers=0, max_workers=2)
    with serve_in_thread(settings, start_workers=False) as url, httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post(f"/runs/{run['run_id']}/approve", headers={"Origin": url})
        assert answer.status_code == 409 and "checkpoints" in answer.json()["detail"], answer.text
    shown = json.loads(agent("show", run["run_id"], "--json", home=home, timeout=60).stdout)
    assert shown["status"] == "paused" and not shown["experiments"], shown
    kept.rename(checkpoints)
    from agents._checkpoint import awaiting_approval_problem

    assert awaiting_approval_problem(home, run["run_id"]) is None  # put back, the plan can be approved again
    assert "hold nothing of run other" in str(awaiting_approval_problem(home, "other"))


def test_a_run_of_cfd_case_without_its_folder_is_refused_before_it_runs(tmp_path: Path) -> None:
    """`agent run cfd/case` ran every gate and exited 1 (TaskError inside the run); the API queued it (202),
    though it refuses the only parameter that could make it run."""
    import httpx

    from api._settings import Settings
    from tests.api_server import serve_in_thread

    home = tmp_path / "home"
    _fail_cleanly(agent("run", "cfd/case", home=home, timeout=120), "cfd/case needs --param case_dir=PATH")
    settings = Settings(home=home, run_workers=0, max_workers=2)
    with serve_in_thread(settings, start_workers=False) as url, httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post("/runs", json={"task": "cfd/case"}, headers={"Origin": url})
        assert answer.status_code == 422, answer.text
        assert "case_dir" in answer.json()["message"], answer.text
