"""The red team's store and HTTP findings (session s38: F2, F4, F5, F9, F10, and the status `update_run` took).

Each test failed before its fix:
- F2: a token that is not printable ASCII was accepted at start-up; then the right token was refused (401)
  or, for a byte that is not UTF-8, every request carrying a token got a 500.
- F4: a store on read-only media could not be read at all ("unable to open database file").
- F5: artifact files were not synced before their rename; a torn file was kept by the next store of the same
  bytes, and served as the digest's content.
- F9: a Range the server could not use got Starlette's plain-text 400; HEAD got 405.
- F10: with reads protected, artifacts were still `Cache-Control: public`.
- Any status string went into the store through `update_run`, which then broke every run list.
"""

from __future__ import annotations

import base64
import os
import shutil
import sqlite3
import stat
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from starlette.responses import PlainTextResponse

import runs._store
from api._app import create_app
from api._settings import Settings, SettingsError
from api.rest._ratelimit import FailedAuthLimiter
from api.rest._readguard import ReadGuard
from api.rest._security import token_matches
from runs import (
    ArtifactStore,
    DamagedArtifactError,
    LabgateError,
    RunStore,
    StoreUnavailableError,
    TaskSpec,
    UnknownStatusError,
)
from tests.conftest import agent

TOKEN = "store-and-http-token-0123456789"
DATA = b"evidence " * 1000
NOT_UTF8_TOKEN = "a" * 16 + "\udcff"
"""What Python makes of LABGATE_API_TOKEN=$'aaaaaaaaaaaaaaaa\\xff': the byte that is not UTF-8 as a lone surrogate."""


def _seed(home: Path) -> tuple[str, str]:
    """A store holding one run with one artifact; returns the run's id and the artifact's digest."""
    store = RunStore(home)
    run = store.create_run(TaskSpec(id="cfd/x", workload="cfd", params={"case": "cavity"}))
    artifact = store.add_artifact_bytes(run.id, DATA, kind="log", name="log.icoFoam")
    store.engine.dispose()
    return run.id, artifact.sha256


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, str, str]]:
    """The app on a store holding one run and one artifact, guarded by TOKEN (writes only)."""
    run_id, sha = _seed(tmp_path)
    app = create_app(Settings(home=tmp_path, run_workers=0, api_token=SecretStr(TOKEN)), start_workers=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, run_id, sha
    app.state.labgate.store.engine.dispose()


# -- F2: the API token ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["päßwörd-päßwörd-päßwörd", NOT_UTF8_TOKEN, "aaaaaaaaaaaaaaaa\x07", "aaaaaaaaaaaaaaaa\n"],
)
def test_a_token_no_http_header_can_carry_is_refused_at_start_up(tmp_path: Path, token: str) -> None:
    settings = Settings(home=tmp_path, api_token=SecretStr(token))
    with pytest.raises(SettingsError, match="not printable ASCII") as refused:
        settings.serving_token()
    assert token not in str(refused.value)  # the message never quotes the secret
    with pytest.raises(SettingsError, match="not printable ASCII"):
        create_app(settings, start_workers=False)


def test_a_token_with_outer_spaces_is_refused_and_a_printable_one_accepted(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="space"):
        Settings(home=tmp_path, api_token=SecretStr(f" {TOKEN}")).serving_token()
    assert Settings(home=tmp_path, api_token=SecretStr("Tok3n with ~punctuation!")).serving_token()


def test_agent_serve_refuses_a_token_holding_a_byte_that_is_not_utf8(tmp_path: Path) -> None:
    """Before: the server started, and every request that carried a token got a 500."""
    result = agent(
        "serve", "--port", "0", "--workers", "0", home=tmp_path, env={"LABGATE_API_TOKEN": NOT_UTF8_TOKEN}, timeout=60
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agent: error: LABGATE_API_TOKEN"), result.stderr
    assert "not printable ASCII" in lines[0]


@pytest.mark.parametrize("presented", ["", "abc", "\xff\xfe", "pÃ¤", "\udcff", "a" * 16 + "\udcff"])
@pytest.mark.parametrize("token", [TOKEN, NOT_UTF8_TOKEN, "päßwörd-päßwörd"])
def test_comparing_tokens_never_raises(presented: str, token: str) -> None:
    assert token_matches(presented, token) is (presented == token)


def test_header_bytes_of_any_kind_get_401_never_500(client: tuple[TestClient, str, str]) -> None:
    test_client, run_id, _ = client
    for header in (b"Bearer \xff\xfe", "Bearer päßwörd".encode(), b"Bearer " + TOKEN.encode() + b"\xff"):
        refused = test_client.post(f"/runs/{run_id}/cancel", headers={b"authorization": header})
        assert refused.status_code == 401, refused.text
        assert set(refused.json()) == {"detail", "message"}


def test_a_server_holding_a_token_that_is_not_utf8_answers_401_not_500(client: tuple[TestClient, str, str]) -> None:
    """A server that got such a token past start-up (the check came later): the comparison itself never raises."""
    test_client, run_id, _ = client
    state = test_client.app.state.labgate  # type: ignore[attr-defined]
    state.settings = state.settings.model_copy(update={"api_token": SecretStr(NOT_UTF8_TOKEN)})
    refused = test_client.post(f"/runs/{run_id}/cancel", headers={"Authorization": "Bearer abc"})
    assert refused.status_code == 401, refused.text


def test_the_read_guard_compares_any_token_and_any_header(tmp_path: Path) -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("read")(scope, receive, send)

    guard = ReadGuard(inner, token=NOT_UTF8_TOKEN, limiter=FailedAuthLimiter(max_failures=1000))
    test_client = TestClient(guard, raise_server_exceptions=False)  # no lifespan: the inner app answers http only
    basic = b"Basic " + base64.b64encode(b"user:\xff\xfe")
    for header in (b"Bearer \xff", basic, b"Basic " + base64.b64encode("u:päß".encode()), b"Bearer abc"):
        answer = test_client.get("/runs", headers={b"authorization": header})
        assert answer.status_code == 401, (header, answer.text)


# -- F4: a store on read-only media --------------------------------------------------------------------------


def _sqlite_cantopen(tmp_path: Path) -> sqlite3.OperationalError:
    """A real SQLITE_CANTOPEN error, what switching a database on read-only media to WAL raises."""
    try:
        sqlite3.connect(str(tmp_path / "no such folder" / "x.db"))
    except sqlite3.OperationalError as error:
        assert getattr(error, "sqlite_errorname", "") == "SQLITE_CANTOPEN"
        return error
    raise AssertionError("SQLite opened a database in a folder that does not exist")


@pytest.fixture
def refused_for_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, str]:
    """A store seeded normally, after which every writable connection to it fails as on read-only media
    (SQLITE_CANTOPEN, as WAL opens its `-shm` file) while read-only ones work. Root writes anywhere, so this is
    how the fallback is tested on every machine; `read_only_home` below uses real read-only media."""
    home = tmp_path / "home"
    run_id, sha = _seed(home)
    error = _sqlite_cantopen(tmp_path)
    original = runs._store._configure_sqlite

    def configure(engine: Engine, *, read_only: bool = False) -> None:
        original(engine, read_only=read_only)
        if not read_only:

            @event.listens_for(engine, "connect")
            def _refuse(_connection: Any, _record: Any) -> None:
                raise error

    monkeypatch.setattr(runs._store, "_configure_sqlite", configure)
    return home, run_id, sha


def _reads_and_refuses_writes(home: Path, run_id: str, sha: str) -> None:
    store = RunStore(home)
    try:
        assert store.read_only
        assert [run.id for run in store.list_runs()] == [run_id]
        assert store.get_run(run_id).status == "queued"
        assert store.revision() >= 1
        assert store.artifacts.open_path(sha, size=len(DATA)).read_bytes() == DATA
        with pytest.raises(DBAPIError, match="readonly"):
            store.set_status(run_id, "cancelled")
        with pytest.raises(DBAPIError, match="readonly"):
            store.create_run(None, task_id="cfd/cavity")
        assert store.get_run(run_id).status == "queued"
    finally:
        store.engine.dispose()


def test_a_database_that_cannot_be_opened_for_writing_is_read(refused_for_writing: tuple[Path, str, str]) -> None:
    _reads_and_refuses_writes(*refused_for_writing)


def test_a_server_on_a_store_it_cannot_write_starts_no_run_workers(refused_for_writing: tuple[Path, str, str]) -> None:
    """Its workers would fail to claim the store's queued run on every supervisor loop, a traceback each time."""
    home, _, _ = refused_for_writing
    app = create_app(Settings(home=home, run_workers=2, max_workers=2))
    try:
        assert app.state.labgate.pool.concurrency == 0 and app.state.labgate.launcher.store.read_only
    finally:
        app.state.labgate.launcher.store.engine.dispose()


def test_a_read_only_store_at_an_older_schema_is_named_not_migrated(
    refused_for_writing: tuple[Path, str, str],
) -> None:
    home, _, _ = refused_for_writing
    connection = sqlite3.connect(home / "labgate.db")
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '0003'")
    connection.close()
    with pytest.raises(StoreUnavailableError, match=r"older schema revision '0003'.*cannot be written"):
        RunStore(home)


@pytest.fixture
def read_only_home(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """A store on read-only media: a read-only bind mount (root), or a store whose folders and files a user
    other than root cannot write. Skips where neither can be made."""
    source = tmp_path / "store"
    run_id, sha = _seed(source)
    if os.geteuid() != 0:
        for path in [*source.rglob("*"), source]:
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield source, run_id, sha
        finally:
            for path in [source, *source.rglob("*")]:
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
        return
    mount = tmp_path / "read-only"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make read-only media")
    if subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True, check=False).returncode:
        pytest.skip("this machine cannot bind-mount a folder")
    try:
        remount = ["mount", "-o", "remount,bind,ro", str(mount)]
        if subprocess.run(remount, capture_output=True, check=False).returncode or _writable(mount):
            pytest.skip("this machine cannot make a bind mount read-only")
        yield mount, run_id, sha
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def _writable(folder: Path) -> bool:
    try:
        (folder / ".probe").touch()
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


def test_a_store_on_read_only_media_is_read(read_only_home: tuple[Path, str, str]) -> None:
    _reads_and_refuses_writes(*read_only_home)


def test_the_commands_read_a_read_only_store_and_say_so_once(read_only_home: tuple[Path, str, str]) -> None:
    home, run_id, _ = read_only_home
    for args in (("runs", "--json"), ("show", run_id)):
        result = agent(*args, home=home, timeout=120)
        assert result.returncode == 0, (args, result.stderr[-2000:])
        assert run_id in result.stdout, args
        assert result.stderr.count("cannot be written") == 1, (args, result.stderr)
    tasks = agent("tasks", "--json", home=home, timeout=120)
    assert tasks.returncode == 0 and "cfd/cavity" in tasks.stdout, tasks.stderr[-2000:]
    assert "cannot be written" not in tasks.stderr  # listing the catalog does not open the store
    cancel = agent("cancel", run_id, home=home, timeout=120)
    assert cancel.returncode == 2 and "Traceback" not in cancel.stderr, cancel.stderr[-2000:]
    assert "readonly database" in cancel.stderr.strip().splitlines()[-1]


def test_the_server_serves_a_read_only_store_and_answers_writes_with_503(
    read_only_home: tuple[Path, str, str],
) -> None:
    home, run_id, sha = read_only_home
    app = create_app(Settings(home=home, run_workers=0), start_workers=False)
    assert app.state.labgate.store.read_only
    with TestClient(app) as test_client:
        health = test_client.get("/healthz").json()
        assert health["database"] == "ok" and health["read_only"] is True, health
        assert [row["run_id"] for row in test_client.get("/runs").json()["items"]] == [run_id]
        assert test_client.get(f"/runs/{run_id}").status_code == 200
        assert test_client.get(f"/ui/runs/{run_id}").status_code == 200
        assert test_client.get(f"/artifacts/{sha}").content == DATA
        refused = test_client.post(f"/runs/{run_id}/cancel")
        assert refused.status_code == 503 and "readonly" in refused.json()["message"], refused.text
        assert "cannot be written: it is read-only" in refused.json()["message"], refused.text
    app.state.labgate.store.engine.dispose()


# -- F5: artifact files --------------------------------------------------------------------------------------


def test_an_artifact_is_synced_before_its_rename_and_its_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = ArtifactStore(tmp_path / "artifacts")
    happened: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        happened.append("sync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "sync file")
        real_fsync(fd)

    def replace(source: Any, target: Any) -> None:
        happened.append("rename")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    artifacts.put_bytes(DATA)
    assert "sync file" in happened and "rename" in happened
    assert happened.index("sync file") < happened.index("rename")
    assert "sync folder" in happened[happened.index("rename") :]


@pytest.mark.parametrize("damage", [b"", DATA[:100], DATA + b"x"])
def test_storing_the_same_bytes_again_repairs_a_torn_file(tmp_path: Path, damage: bytes) -> None:
    """Before: the file existed, so it was kept, empty, under the digest of 9000 bytes."""
    store = RunStore(tmp_path)
    run = store.create_run(TaskSpec(id="cfd/x", workload="cfd", params={"case": "cavity"}))
    first = store.add_artifact_bytes(run.id, DATA, kind="log", name="log.icoFoam")
    path = store.artifacts.path_for(first.sha256)
    for stored_again in ("bytes", "file"):
        path.chmod(0o644)
        path.write_bytes(damage)  # what a crash between the rename and the data reaching the disk leaves
        if stored_again == "bytes":
            again = store.add_artifact_bytes(run.id, DATA, kind="log", name="log.icoFoam")
        else:
            source = tmp_path / "log.icoFoam"
            source.write_bytes(DATA)
            again = store.add_artifact(run.id, source, kind="log")  # through put_file
        assert again.sha256 == first.sha256
        assert path.read_bytes() == DATA, stored_again
        assert store.artifacts.open_path(first.sha256, size=first.size) == path
    store.engine.dispose()


def test_a_stored_file_of_the_wrong_size_is_refused_not_served(client: tuple[TestClient, str, str]) -> None:
    test_client, run_id, sha = client
    store: RunStore = test_client.app.state.labgate.store  # type: ignore[attr-defined]
    path = store.artifacts.path_for(sha)
    path.chmod(0o644)
    path.write_bytes(b"")
    with pytest.raises(DamagedArtifactError, match="damaged: it holds 0 bytes where 9000") as damaged:
        store.artifacts.open_path(sha, size=len(DATA))
    assert isinstance(damaged.value, LabgateError)
    served = test_client.get(f"/artifacts/{sha}")
    assert served.status_code == 503, served.text
    assert set(served.json()) == {"detail", "message"} and "damaged" in served.json()["detail"]
    assert "immutable" not in served.headers.get("cache-control", "")
    store.add_artifact_bytes(run_id, DATA, kind="log", name="log.icoFoam")  # the same bytes, stored again
    assert test_client.get(f"/artifacts/{sha}").content == DATA


# -- F9: Range and HEAD --------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["items=0-1", "lines=1-2", "bytes", "0-10"])
def test_a_range_of_another_unit_is_ignored(client: tuple[TestClient, str, str], header: str) -> None:
    test_client, _, sha = client
    whole = test_client.get(f"/artifacts/{sha}", headers={"Range": header})
    assert whole.status_code == 200 and whole.content == DATA, whole.text[:200]


@pytest.mark.parametrize("header", ["bytes=5-1", "bytes=x", "bytes=", "bytes=-0", "bytes=9000-", "bytes=99999-100000"])
def test_a_bytes_range_that_cannot_be_served_gets_416_in_the_api_shape(
    client: tuple[TestClient, str, str], header: str
) -> None:
    test_client, _, sha = client
    refused = test_client.get(f"/artifacts/{sha}", headers={"Range": header})
    assert refused.status_code == 416, refused.text
    assert refused.headers["content-type"] == "application/json"
    assert set(refused.json()) == {"detail", "message"} and "range" in refused.json()["detail"]
    assert refused.headers["content-range"] == f"bytes */{len(DATA)}"


def test_byte_ranges_still_work(client: tuple[TestClient, str, str]) -> None:
    test_client, _, sha = client
    part = test_client.get(f"/artifacts/{sha}", headers={"Range": "bytes=9-17"})
    assert part.status_code == 206 and part.content == DATA[9:18]
    ignored = test_client.get(f"/artifacts/{sha}", headers={"Range": "bytes=5-1", "If-Range": '"another"'})
    assert ignored.status_code == 200 and ignored.content == DATA  # If-Range names another version: no range


def test_head_answers_on_the_health_and_artifact_routes(client: tuple[TestClient, str, str]) -> None:
    test_client, _, sha = client
    health = test_client.head("/healthz")
    assert health.status_code == 200 and health.content == b""
    assert health.headers["content-type"] == "application/json"
    head = test_client.head(f"/artifacts/{sha}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(DATA))
    assert head.headers["cache-control"].startswith("public")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a duplicate operation id is only a warning
        document = test_client.app.openapi()  # type: ignore[attr-defined]
    assert {"get", "head"} <= set(document["paths"]["/artifacts/{sha256}"])
    assert {"get", "head"} <= set(document["paths"]["/healthz"])
    assert "416" in document["paths"]["/artifacts/{sha256}"]["get"]["responses"]
    allowed = test_client.delete("/healthz").headers["allow"]
    assert {method.strip() for method in allowed.split(",")} == {"GET", "HEAD"}


# -- F10: caching of protected artifacts ---------------------------------------------------------------------


def test_protected_artifacts_are_cached_privately_only(tmp_path: Path) -> None:
    _, sha = _seed(tmp_path)
    settings = Settings(home=tmp_path, run_workers=0, api_token=SecretStr(TOKEN), protect_reads=True)
    app = create_app(settings, start_workers=False)
    with TestClient(app) as test_client:
        assert test_client.get(f"/artifacts/{sha}").status_code == 401
        served = test_client.get(f"/artifacts/{sha}", headers={"Authorization": f"Bearer {TOKEN}"})
        assert served.status_code == 200 and served.content == DATA
        assert served.headers["cache-control"] == "private, max-age=31536000, immutable"
    app.state.labgate.store.engine.dispose()


# -- statuses the store writes -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["succeeded", "stopped", "", "RUNNING"])
def test_the_store_refuses_a_status_labgate_does_not_define(store: RunStore, status: str) -> None:
    """Before: `update_run(status="succeeded")` was stored, and `GET /runs` then failed for every run."""
    run = store.create_run(None, task_id="cfd/cavity")
    writes = (
        lambda: store.update_run(run.id, status=status),
        lambda: store.set_status(run.id, status),  # type: ignore[arg-type]
        lambda: store.update_run_if(run.id, status_in=["queued"], status=status),
    )
    for write in writes:
        with pytest.raises(UnknownStatusError, match="is not a run status") as refused:
            write()
        assert isinstance(refused.value, LabgateError) and isinstance(refused.value, ValueError)
    assert store.get_run(run.id).status == "queued"
    store.update_run(run.id, status="paused")
    assert store.set_status(run.id, "running")
    assert store.get_run(run.id).status == "running"
