"""Input surfaces as a careless or hostile user meets them: task files, command-line values, REST bodies, and
run stores that are damaged or newer than this labgate. Each case here got through before: a traceback, a 500,
a value stored other than given, or a store that every later page failed to read. Each is now bad input with
one sentence naming the problem (CLI exit code 2, REST 422), and nothing stored is changed by the refusal.
"""

from __future__ import annotations

import io
import json
import math
import os
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api._settings import Settings, build_catalog
from runs import ExperimentSpec, GateResult, RunStore, StoreUnavailableError, TaskSpec, walk_untrusted
from tests.api_server import served_client
from tests.conftest import agent
from tools import Catalog, TaskError, apply_overrides


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return build_catalog(Settings())


@pytest.fixture
def server(home: Path) -> Iterator[httpx.Client]:
    settings = Settings(home=home, run_workers=0, max_workers=2)
    with served_client(settings) as client:
        yield client


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def _load(catalog: Catalog, tmp_path: Path, text: str, suffix: str = ".yaml") -> str:
    """The TaskError loading `text` as a task file gives (the test fails if it loads)."""
    path = tmp_path / f"task{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(TaskError) as refused:
        catalog.load(str(path))
    return str(refused.value)


# -- task files whose fields have the wrong shape (TypeError / AttributeError before) ------------------------

WRONG_SHAPES = [
    ("extends: cfd/cavity\nparams: 5\n", "params: must be a mapping"),
    ("extends: cfd/cavity\nparams: [re, 100]\n", "params: must be a mapping"),
    ("extends: cfd/cavity\nbudget: lots\n", "budget: must be a mapping"),
    ("extends: cfd/cavity\ngate_options: [comparator]\n", "gate_options: must be a mapping"),
    ("extends: cfd/cavity\ngate_options: {comparator: 0.1}\n", "gate_options.comparator: must be a mapping"),
    ("extends: [cfd/cavity]\n", "extends: must be a catalog task id"),
]


@pytest.mark.parametrize(("text", "message"), WRONG_SHAPES)
def test_task_file_fields_of_the_wrong_shape_are_named(
    catalog: Catalog, tmp_path: Path, text: str, message: str
) -> None:
    assert message in _load(catalog, tmp_path, text)


def test_a_wrong_shape_is_one_line_and_exit_2_on_the_command_line(tmp_path: Path) -> None:
    task = tmp_path / "task.yaml"
    task.write_text("extends: cfd/cavity\ngate_options: {comparator: 5}\n")
    result = agent("run", str(task), home=tmp_path / "home")
    assert result.returncode == 2
    assert "gate_options.comparator: must be a mapping" in _one_line(result.stderr)


@pytest.mark.parametrize("field", ["params", "budget", "gate_options", "extends"])
def test_a_spec_of_the_wrong_shape_is_a_422_not_a_500(server: httpx.Client, field: str) -> None:
    spec = {"extends": "cfd/cavity", field: ["not", "a", "mapping"]}
    response = server.post("/runs", json={"spec": spec})
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    assert server.get("/runs").json()["total"] == 0


# -- YAML and JSON built to hurt the parser ------------------------------------------------------------------

LAUGHS = "extends: cfd/cavity\nparams:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9)
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: cfd/cavity\ntitle: " + "[" * 3000 + "]" * 3000 + "\n", "nest too deeply"),
        ("extends: cfd/cavity\ntitle: 2024-13-45\n", "month must be in 1..12"),
        ("extends: cfd/cavity\nseed: 1" + "0" * 5000 + "\n", "integer string conversion"),
        (LAUGHS, "expand to more than"),
        ("extends: cfd/cavity\nparams: &p {cells: *p}\n", "refers to a value that contains it"),
        ("extends: cfd/cavity\nparams: {re: 100}\nparams: {re: 5000}\n", "duplicate key 'params'"),
        ("extends: cfd/cavity\nextends: cfd/poiseuille\n", "duplicate key 'extends'"),
        ('extends: cfd/cavity\ntitle: "a\\0b"\n', "NUL"),
    ],
)
def test_hostile_yaml_is_a_malformed_task_file(catalog: Catalog, tmp_path: Path, text: str, message: str) -> None:
    """Before: RecursionError, ValueError from the constructors, or the last of two duplicate keys silently
    winning; an alias bomb was built in full; a NUL reached the database."""
    refused = _load(catalog, tmp_path, text)
    assert "malformed" in refused and message in refused, refused


def test_json_task_files_refuse_duplicate_keys_and_deep_nesting(catalog: Catalog, tmp_path: Path) -> None:
    duplicate = '{"extends": "cfd/cavity", "params": {"re": 100}, "params": {"re": 5000}}'
    assert "duplicate key 'params'" in _load(catalog, tmp_path, duplicate, ".json")
    deep = '{"extends": "cfd/cavity", "title": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert "nest too deeply" in _load(catalog, tmp_path, deep, ".json")


def test_a_task_file_that_is_not_utf8_is_named(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_bytes(b"extends: cfd/cavity\ntitle: caf\xe9\n")
    with pytest.raises(TaskError, match="not UTF-8"):
        catalog.load(str(path))


# -- values that would be stored other than given ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: cfd/cavity\nsweep: {re: [100, .inf]}\n", "re[1]: inf is not a finite number"),
        ("extends: cfd/cavity\ngate_options: {comparator: {tolerance: .nan}}\n", "nan is not a finite number"),
        ('extends: cfd/cavity\ntitle: "lid \\ud800"\n', "not valid Unicode text"),
        ("extends: cfd/cavity\nseed: 100000000000000000000\n", "seed"),
        ("extends: cfd/cavity\nsweep: {re: []}\n", "a sweep needs at least one value"),
        ("extends: cfd/cavity\nparams: {re: 100}\nsweep: {re: [400]}\n", "either fixed (params) or swept"),
    ],
)
def test_values_no_run_can_record_as_given_are_refused(
    catalog: Catalog, tmp_path: Path, text: str, message: str
) -> None:
    """Before: infinity and NaN were stored as null, a seed past 64 bits was an OverflowError from SQLite,
    an empty sweep planned nothing, and a value both fixed and swept was silently outvoted by the sweep."""
    assert message in _load(catalog, tmp_path, text)


def test_a_fixed_parameter_replaces_the_catalog_tasks_sweep(catalog: Catalog, tmp_path: Path) -> None:
    """Before: `params: {re: 5000}` over cfd/cavity still ran Re 100 and 400, the catalog's sweep."""
    path = tmp_path / "task.yaml"
    path.write_text("extends: cfd/cavity\nparams: {re: 5000}\n")
    task = catalog.load(str(path))
    assert task.params["re"] == 5000 and "re" not in task.sweep
    swept = tmp_path / "swept.yaml"
    swept.write_text("extends: cfd/cavity\nparams: {cells: 32}\n")
    assert catalog.load(str(swept)).sweep == catalog.get("cfd/cavity").sweep  # others keep the catalog's


def test_a_param_override_without_values_is_refused(catalog: Catalog) -> None:
    with pytest.raises(TaskError, match="gives no value"):
        apply_overrides(catalog.get("cfd/cavity"), params=["re=,"])


@pytest.mark.parametrize("value", ["100,,400", "100,", ",100", "100, ,400"])
def test_a_param_override_with_an_empty_value_between_commas_is_refused(catalog: Catalog, value: str) -> None:
    """Before: `re=100,,400` ran Re 100 and 400, silently dropping what was likely a value left out."""
    with pytest.raises(TaskError, match="empty value between commas"):
        apply_overrides(catalog.get("cfd/cavity"), params=[f"re={value}"])


def test_a_lone_surrogate_in_a_spec_does_not_poison_the_run_list(server: httpx.Client) -> None:
    """Before: accepted (202), after which GET /runs, the dashboard and the run's page all answered 500."""
    body = b'{"spec": {"extends": "cfd/cavity", "title": "lid \\ud800 cavity"}}'
    response = server.post("/runs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "surrogate" in response.json()["message"], response.text
    for ok in (server.get("/runs"), server.get("/")):
        assert ok.status_code == 200
    assert server.get("/runs").json()["total"] == 0


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_numbers_in_a_body_are_a_422(server: httpx.Client, literal: bytes) -> None:
    """Before: `Infinity` in a spec's params was accepted and stored as null."""
    body = b'{"spec": {"extends": "cfd/cavity", "params": {"re": ' + literal + b"}}}"
    response = server.post("/runs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and literal.decode() in response.json()["message"], response.text
    assert server.get("/runs").json()["total"] == 0


# -- command-line values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "cfd/\udcff"], "is not UTF-8 text"),
        (["show", "\udcff\udcfe"], "is not UTF-8 text"),
        (["run", "cfd/cavity", "--seed", str(10**25)], "--seed"),
        (["runs", "--limit", str(10**25)], "--limit"),
    ],
)
def test_command_line_values_no_store_can_hold_are_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    """Before: UnicodeEncodeError and OverflowError tracebacks from SQLite, exit code 1."""
    result = agent(*args, home=tmp_path / "home")
    assert result.returncode == 2
    assert message in _one_line(result.stderr)


# -- run stores that cannot be opened ------------------------------------------------------------------------


def test_a_store_from_a_newer_labgate_is_refused_untouched(home: Path) -> None:
    RunStore(home).engine.dispose()
    with sqlite3.connect(home / "labgate.db") as database:
        database.execute("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(StoreUnavailableError, match="newer labgate"):
        RunStore(home)
    with sqlite3.connect(home / "labgate.db") as database:
        assert database.execute("SELECT version_num FROM alembic_version").fetchall() == [("0999",)]
    result = agent("runs", home=home)
    assert result.returncode == 2 and "'0999'" in _one_line(result.stderr)


@pytest.mark.parametrize("content", [b"not a database at all\n", b"SQLite format 3\x00" + bytes(range(256)) * 16])
def test_a_damaged_database_is_named_and_left_as_it_was(home: Path, content: bytes) -> None:
    (home / "labgate.db").write_bytes(content)
    with pytest.raises(StoreUnavailableError, match=r"labgate\.db"):
        RunStore(home)
    result = agent("runs", home=home)
    assert result.returncode == 2 and "cannot open the run store's database" in _one_line(result.stderr)
    assert (home / "labgate.db").read_bytes() == content


def test_a_store_folder_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("not a folder")
    result = agent("runs", home=tmp_path / "home")
    assert result.returncode == 2 and "run store's folder: it is a file, not a folder" in _one_line(result.stderr)


# -- what a store already holds is shown, whatever it holds ----------------------------------------------------


def test_a_run_stored_with_a_lone_surrogate_is_still_shown(server: httpx.Client, home: Path) -> None:
    """A run recorded before submissions were checked (the database holds a `\\ud800` escape): every page
    that listed it answered 500. It is shown, the broken half-character replaced."""
    task = TaskSpec(id="cfd/x", workload="cfd", title="lid HALF cavity", params={"case": "cavity"})
    store = RunStore(home)
    try:
        run = store.create_run(task)
    finally:
        store.engine.dispose()
    with sqlite3.connect(home / "labgate.db") as database:
        spec = json.dumps(task.model_dump(mode="json")).replace("HALF", "\\ud800")
        database.execute("UPDATE run SET spec = ? WHERE id = ?", (spec, run.id))
    for path in ("/runs", "/", f"/runs/{run.id}", f"/ui/runs/{run.id}"):
        response = server.get(path)
        assert response.status_code == 200, (path, response.text)
    assert server.get(f"/runs/{run.id}").json()["spec"]["title"] == "lid \ufffd cavity"


def test_a_non_finite_metric_is_null_in_every_json_answer(server: httpx.Client, home: Path, tmp_path: Path) -> None:
    """A gate may record a NaN metric (a diverged run's error): GET /runs/{id} answered 500, and the event
    stream, the archive's run.json and `agent show --json` carried `NaN`/`Infinity`, which no JSON parser reads."""
    store = RunStore(home)
    try:
        run = store.create_run(TaskSpec(id="cfd/x", workload="cfd", params={"case": "cavity"}))
        experiment = store.add_experiment(run.id, ExperimentSpec(key="e1", task_id="cfd/x"))
        assert experiment.id is not None
        store.update_experiment(experiment.id, metrics={"error": math.nan, "ratio": math.inf}, status="completed")
        verdict = GateResult(gate="comparator", decision="reject", metrics={"e": math.nan})
        store.add_verdict(run.id, experiment.id, verdict)
        store.emit(run.id, "metric", "diverged", {"value": -math.inf})
        store.set_status(run.id, "finished")
    finally:
        store.engine.dispose()
    detail = server.get(f"/runs/{run.id}")
    assert detail.status_code == 200, detail.text
    events = server.get(f"/runs/{run.id}/events", params={"follow": "false"}).text
    data = [line.removeprefix("data: ") for line in events.splitlines() if line.startswith("data: ")]
    assert data and all(json.loads(item, parse_constant=_no_constant) is not None for item in data)
    with zipfile.ZipFile(io.BytesIO(server.get(f"/runs/{run.id}/archive").content)) as archive:
        json.loads(archive.read("run.json"), parse_constant=_no_constant)
    shown = agent("show", run.id, "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    metrics = json.loads(shown.stdout, parse_constant=_no_constant)["experiments"][0]["metrics"]
    assert metrics == {"error": None, "ratio": None}


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


# -- a tree that changes while it is read ----------------------------------------------------------------------


def test_entries_that_vanish_during_a_walk_are_skipped() -> None:
    """The walk's own directory descriptor is listed in /proc/<pid>/fd and closed before it is examined:
    a FileNotFoundError before, the same race as any file removed while a case is checked."""
    entries = list(walk_untrusted(Path(f"/proc/{os.getpid()}/fd")))
    assert entries and all(entry.kind == "link" for entry in entries)


def test_checking_a_live_folder_is_bad_input_not_a_traceback(tmp_path: Path) -> None:
    result = agent("check", "cfd/cavity", "/proc/self", home=tmp_path / "home")
    assert result.returncode == 2
    assert "not an OpenFOAM case" in _one_line(result.stderr)


# -- a cancel racing the run's end -------------------------------------------------------------------------------


def test_a_cancel_arriving_after_the_end_leaves_the_result_alone(store: RunStore) -> None:
    """`cancel` checks the status, then writes it: a run finishing in between was turned from finished into
    cancelled, and two cancels at once each recorded the cancellation. The write itself now refuses."""
    run = store.create_run(TaskSpec(id="cfd/x", workload="cfd", params={"case": "cavity"}))
    store.set_status(run.id, "running")
    assert store.set_status(run.id, "cancelled", "cancelled on request")
    assert not store.set_status(run.id, "cancelled", "cancelled on request")
    finished = store.create_run(TaskSpec(id="cfd/x", workload="cfd", params={"case": "cavity"}))
    store.set_status(finished.id, "finished")
    assert not store.set_status(finished.id, "cancelled", "cancelled on request")
    assert store.get_run(finished.id).status == "finished"
    cancellations = [event for event in store.events(run.id) if event.message.startswith("run cancelled")]
    assert len(cancellations) == 1


def test_a_last_event_id_past_the_databases_integers_is_a_422(server: httpx.Client, home: Path) -> None:
    """19 digits pass the header's pattern but may exceed 2**63: the stream broke off after its first line."""
    store = RunStore(home)
    try:
        run = store.create_run(TaskSpec(id="cfd/x", workload="cfd", params={"case": "cavity"}))
        store.set_status(run.id, "finished")
    finally:
        store.engine.dispose()
    events = f"/runs/{run.id}/events"
    refused = server.get(events, params={"follow": "false"}, headers={"Last-Event-ID": "9" * 19})
    assert refused.status_code == 422 and "Last-Event-ID" in refused.json()["message"], refused.text
    resumed = server.get(events, params={"follow": "false"}, headers={"Last-Event-ID": "0"})
    assert resumed.status_code == 200 and "event: end" in resumed.text


@pytest.mark.parametrize("url", ["nope://x", "postgresql+nosuchdriver://user:SECRET@db/labgate", "::::", "sqlite:///"])
def test_a_database_url_that_cannot_be_used_is_named_without_its_password(home: Path, url: str) -> None:
    """Before: NoSuchModuleError, ArgumentError or TypeError tracebacks from SQLAlchemy."""
    result = agent("runs", home=home, env={"LABGATE_DATABASE_URL": url})
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "database URL cannot be used" in line and "SECRET" not in line


def test_a_database_damaged_under_a_running_server_is_a_503_not_a_500(home: Path) -> None:
    """Before: every request the damage reached answered 500 (the cache's revision read raised a bare
    sqlite3.DatabaseError, the routes SQLAlchemy's), with nothing for the client to act on."""
    store = RunStore(home)
    try:
        run = store.create_run(TaskSpec(id="cfd/x", workload="cfd", params={"case": "cavity"}))
    finally:
        store.engine.dispose()
    settings = Settings(home=home, run_workers=0, max_workers=2)
    with served_client(settings) as client:
        assert client.get(f"/runs/{run.id}").status_code == 200
        for path in home.glob("labgate.db*"):
            with path.open("r+b") as damaged:
                damaged.write(b"\xff" * path.stat().st_size)
        answers = [client.get(f"/runs/{run.id}"), client.post("/runs", json={"task": "cfd/cavity"})]
        answers += [client.get("/runs"), client.get("/")]
    # A read may still be answered from pages or a response cached before the damage; none is a 500.
    assert all(answer.status_code in (200, 503) for answer in answers), [a.status_code for a in answers]
    assert answers[1].status_code == 503, answers[1].text  # a write reaches the file
    for answer in answers:
        if answer.status_code == 503:
            assert "run store cannot be used" in answer.json()["message"], answer.text


def test_the_page_of_a_run_whose_task_never_loaded_is_shown(server: httpx.Client, home: Path) -> None:
    """`agent run cfd/nope` records a failed run with an empty spec: its dashboard page answered 500 (the
    template read `spec.params`). Specs of other shapes (a hand-edited or damaged store) are shown too."""
    failed = agent("run", "cfd/nope", "--json", home=home)
    assert failed.returncode == 2
    run_id = json.loads(failed.stdout)["run_id"]
    store = RunStore(home)
    try:
        odd = store.create_run(None, task_id="cfd/x")
    finally:
        store.engine.dispose()
    with sqlite3.connect(home / "labgate.db") as database:
        spec = json.dumps({"id": "cfd/x", "params": [1], "sweep": {"re": "x"}, "budget": "lots", "gates": 3})
        database.execute("UPDATE run SET spec = ? WHERE id = ?", (spec, odd.id))
    for path in (f"/ui/runs/{run_id}", f"/ui/runs/{odd.id}", "/", "/runs", f"/ui/compare?run={run_id}&run={odd.id}"):
        response = server.get(path)
        assert response.status_code < 500, (path, response.text[:300])
    assert "unknown task" in server.get(f"/ui/runs/{run_id}").text


def test_show_prints_metrics_that_are_not_numbers(home: Path) -> None:
    """A workload may record a metric as None or text: `agent show` died formatting it as a number."""
    store = RunStore(home)
    try:
        run = store.create_run(TaskSpec(id="cfd/x", workload="cfd", params={"case": "cavity"}))
        experiment = store.add_experiment(run.id, ExperimentSpec(key="e1", task_id="cfd/x"))
        assert experiment.id is not None
        metrics = {"missing": None, "note": "[red]text", "speed": 1.23456}
        store.update_experiment(experiment.id, metrics=metrics, status="completed")
    finally:
        store.engine.dispose()
    shown = agent("show", run.id, home=home)
    assert shown.returncode == 0, shown.stderr
    assert "missing=None" in shown.stdout and "[red]text" in shown.stdout and "speed=1.235" in shown.stdout


# -- a store that fails in the middle of a run -----------------------------------------------------------------


def test_a_store_that_fills_up_during_a_run_ends_it_with_one_clear_error(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while an experiment's outputs are stored: the run's own failure cannot be recorded
    either. Before, both tracebacks reached the terminal; now one error names the store and what happened,
    and what was recorded before stays readable."""
    import errno

    from sqlalchemy.exc import OperationalError

    from agents import Orchestrator, RunLauncher, RunOptions

    def full_database(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("UPDATE run", {}, sqlite3.OperationalError("database or disk is full"))

    def full_disk(*_args: object, **_kwargs: object) -> None:
        # From here on nothing more can be written, as on a full disk.
        monkeypatch.setattr(RunStore, "set_status", full_database)
        monkeypatch.setattr(RunStore, "emit", full_database)
        raise OSError(errno.ENOSPC, "No space left on device")

    launcher = RunLauncher(store, build_catalog(Settings(home=store.home)), None)
    run_id = launcher.submit(launcher.catalog.load("cfd/cavity"), RunOptions())
    monkeypatch.setattr(Orchestrator, "run", full_disk)
    with pytest.raises(StoreUnavailableError) as caught:
        launcher.execute(run_id)
    message = str(caught.value)
    assert str(store.home) in message and run_id in message
    assert "database or disk is full" in message and "No space left on device" in message
    monkeypatch.undo()
    assert store.get_run(run_id).task_id == "cfd/cavity"  # what was recorded before is kept


def test_a_task_file_that_is_a_fifo_or_too_large_is_named_not_waited_on(tmp_path: Path) -> None:
    """A FIFO named like a task file blocked `agent run` forever; a huge file was read whole."""
    fifo = tmp_path / "task.yaml"
    os.mkfifo(fifo)
    result = agent("run", str(fifo), home=tmp_path / "home", timeout=60)
    assert result.returncode == 2 and "is not a regular file" in _one_line(result.stderr)
    huge = tmp_path / "huge.yaml"
    huge.write_text("title: x\n" + "# padding\n" * 500_000)
    result = agent("run", str(huge), home=tmp_path / "home", timeout=60)
    assert result.returncode == 2 and "holds at most" in _one_line(result.stderr)
