"""The REST API, the command line and the dashboard against clients that send what no form would: values of
the wrong JSON type for a task's parameter, numbers JSON allows and no float holds, bodies that are not
UTF-8, cancels that race each other, and comparisons of more runs than the page allows. Each case here got
through before: a value recorded other than it ran (`re: true` solved at Re 1, `1e400` stored as null), a
generic parse error naming nothing, or two clients both told they cancelled one run. Each is now a 422 (CLI:
exit code 2) naming the problem, and nothing stored changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api._app import create_app
from api._settings import Settings
from runs import RunStore
from tests.conftest import agent
from tests.databases import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
def client(request: pytest.FixtureRequest, home: Path) -> Iterator[TestClient]:
    with database_url(request.param) as url:
        app = create_app(Settings(home=home, database_url=url, run_workers=0), start_workers=False)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
        app.state.labgate.store.engine.dispose()


def _store(client: TestClient) -> RunStore:
    store: RunStore = client.app.state.labgate.store  # type: ignore[attr-defined]
    return store


def _post(client: TestClient, body: bytes) -> Any:
    return client.post("/runs", content=body, headers={"Content-Type": "application/json"})


def _message(response: Any) -> str:
    body = response.json()
    assert response.status_code == 422 and isinstance(body["detail"], list), response.text
    return str(body["message"])


# -- values of the wrong JSON type for the task's parameter ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"task": "cfd/cavity", "params": {"re": true}}', "params.re: true is a boolean"),
        (b'{"task": "cfd/cavity", "params": {"re": "100"}}', 'params.re: "100" is text'),
        (b'{"task": "cfd/cavity", "params": {"snapshots": false}}', "params.snapshots: false is a boolean"),
        (b'{"task": "cfd/cavity", "params": {"re": [100, true]}}', "sweep.re[1]: true is a boolean"),
        (b'{"spec": {"extends": "cfd/cavity", "params": {"re": "100"}}}', 'params.re: "100" is text'),
        (b'{"spec": {"extends": "cfd/cavity", "sweep": {"re": [100, "400"]}}}', 'sweep.re[1]: "400" is text'),
    ],
)
def test_a_boolean_or_text_for_a_number_parameter_is_refused(client: TestClient, body: bytes, named: str) -> None:
    """Before: 202, and the run recorded `re: true` (planned and solved as Re 1) or the text "100"."""
    assert named in _message(_post(client, body))
    assert client.get("/runs").json()["total"] == 0


def test_a_number_parameter_given_as_a_number_is_still_accepted(client: TestClient) -> None:
    accepted = _post(client, b'{"task": "cfd/cavity", "params": {"re": 250, "cells": 16.0}}')
    assert accepted.status_code == 202, accepted.text
    spec = client.get(f"/runs/{accepted.json()['run_id']}").json()["spec"]
    assert spec["params"]["re"] == 250


def test_a_boolean_for_a_number_parameter_is_bad_input_on_the_command_line(home: Path) -> None:
    """Before: `--param re=true` planned a run of Re `true` and paused it for approval (exit code 0)."""
    result = agent("run", "cfd/cavity", "--param", "re=true", "--approve-plan", home=home, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "re[0]: true is a boolean" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"task": "cfd/cavity", "params": {"re": null}}', "params.re: null is not a value"),
        (b'{"task": "cfd/cavity", "params": {"re": [100, null]}}', "params.re[1]: null is not a value"),
        (b'{"task": "cfd/cavity", "params": {"re": {"value": 100}}}', "params.re: an object is not a parameter value"),
        (b'{"task": "cfd/cavity", "params": {"re": [100, [400]]}}', "params.re[1]: a list inside a list"),
    ],
)
def test_a_parameter_value_of_no_scalar_type_is_named_in_one_sentence(
    client: TestClient, body: bytes, named: str
) -> None:
    """Before: one complaint per branch of the value's type (`params.re.constrained-str: ...; params.re.int:
    ...; params.re.float: ...`), five sentences none of which says that null is the problem."""
    response = _post(client, body)
    message = _message(response)
    assert named in message and "constrained-str" not in message
    assert len(response.json()["detail"]) == 1


# -- numbers and text a JSON parser reads but no field can hold ------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"task": "cfd/cavity", "params": {"delta_t": 1e400}}',
        b'{"task": "cfd/cavity", "params": {"delta_t": [-1e400, 0.1]}}',
        b'{"spec": {"extends": "kernels/heat2d", "params": {"seconds": 1E+999}}}',
    ],
)
def test_a_number_past_a_doubles_range_is_refused_not_stored_as_null(client: TestClient, body: bytes) -> None:
    """Before: `delta_t: 1e400` through `params` was accepted and the run recorded `delta_t: null`."""
    assert "beyond the range of a 64-bit float" in _message(_post(client, body))
    assert client.get("/runs").json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"task": "cfd/cavity", "task": "cfd/poiseuille"}', '"task"'),
        (b'{"task": "cfd/cavity", "params": {"re": 100, "re": 5000}}', '"re"'),
        (b'{"spec": {"extends": "cfd/cavity", "budget": {"experiments": 1, "experiments": 9}}}', '"experiments"'),
    ],
)
def test_a_key_given_twice_in_one_object_is_refused(client: TestClient, body: bytes, key: str) -> None:
    """Before: 202, running whichever value Python's parser kept (the last), which a proxy or a log that
    keeps the first would report otherwise (task files already refuse duplicate keys)."""
    assert f"gives the key {key} twice" in _message(_post(client, body))
    assert client.get("/runs").json()["total"] == 0


def test_an_integer_too_long_to_read_is_named(client: TestClient) -> None:
    """Before: 400 "There was an error parsing the body", naming neither the field nor the reason."""
    body = b'{"task": "cfd/cavity", "params": {"cells": ' + b"9" * 5000 + b"}}"
    assert "integer of 5,000 digits" in _message(_post(client, body))


def test_a_body_that_is_not_utf8_is_named(client: TestClient) -> None:
    """Before: 400 "There was an error parsing the body"."""
    message = _message(_post(client, b'{"task": "cfd/cav\xffity"}'))
    assert "not UTF-8" in message and "byte 17" in message
    assert client.get("/runs").json()["total"] == 0


def test_a_date_out_of_range_is_named_as_the_client_wrote_it(client: TestClient) -> None:
    """Before: the message quoted Python's `datetime.datetime(1, 1, 1, 0, 0, tzinfo=TzInfo(50400))`."""
    message = _message(client.get("/runs", params={"since": "0001-01-01T00:00:00+14:00"}))
    assert "0001-01-01T00:00:00+14:00 is outside the dates" in message and "datetime.datetime" not in message


# -- races ---------------------------------------------------------------------------------------------------


def test_of_two_racing_cancels_only_one_is_told_it_cancelled(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another client's cancel commits between this cancel's check and its write.

    Before: both were answered 200 "cancelled on request", though only the other one was recorded.
    """
    run_id = client.post("/runs", json={"task": "cfd/cavity", "budget": 1}).json()["run_id"]
    store = _store(client)
    record = store.set_status

    def other_client_first(target: str, status: Any, reason: str = "") -> bool:
        if status == "cancelled":
            record(target, "cancelled", "cancelled by another client")
        return record(target, status, reason)

    monkeypatch.setattr(store, "set_status", other_client_first)
    response = client.post(f"/runs/{run_id}/cancel")
    assert response.status_code == 409 and "already ended (cancelled)" in response.json()["detail"], response.text
    monkeypatch.undo()
    run = store.get_run(run_id)
    assert run.status == "cancelled" and run.reason == "cancelled by another client"
    cancels = [e for e in store.events(run_id, 0, 100) if e.kind == "status" and e.data.get("status") == "cancelled"]
    assert len(cancels) == 1
    again = client.post(f"/runs/{run_id}/cancel")
    assert again.status_code == 409  # and a cancel after the end is refused as before


def test_a_cancel_of_a_queued_run_still_cancels_it(client: TestClient) -> None:
    run_id = client.post("/runs", json={"task": "cfd/cavity", "budget": 1}).json()["run_id"]
    response = client.post(f"/runs/{run_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled", response.text
    assert _store(client).get_run(run_id).status == "cancelled"


# -- the dashboard's comparison --------------------------------------------------------------------------------


def test_one_value_listing_more_runs_than_a_comparison_shows_is_refused(client: TestClient) -> None:
    """Before: the limit of 20 counted `run` values, so `?run=a,b,c,...` compared any number of runs."""
    ids = [f"20260101-000000-{index:06x}" for index in range(25)]
    message = _message(client.get("/ui/compare", params={"run": ",".join(ids)}))
    assert "25 run ids given; compare at most 20" in message


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "A" * 5000, "run\u202eid"])
def test_a_compared_id_no_run_can_have_is_named_not_looked_up(client: TestClient, hostile: str) -> None:
    """Before: looked up and answered 404 quoting the whole value (5,000 characters) back."""
    run_id = client.post("/runs", json={"task": "cfd/cavity", "budget": 1}).json()["run_id"]
    message = _message(client.get("/ui/compare", params={"run": [run_id, hostile]}))
    assert "is not a run id" in message and len(message) < 200


# -- artifacts with hostile names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("out/invoice\u202egnp.exe", "invoicegnp.exe"),
        ("report\u200b\u2066.txt", "report.txt"),
        ("log\r\nSet-Cookie: a=1.txt", "logSet-Cookie: a=1.txt"),
        ("\u202e", "artifact"),
        ("x" * 400 + ".txt", "x" * 196 + ".txt"),
    ],
)
def test_an_artifact_downloads_under_a_name_without_invisible_characters(
    client: TestClient, name: str, saved: str
) -> None:
    """Before: the save dialog got `invoice\\u202egnp.exe`, an executable that reads `invoiceexe.png`."""
    store = _store(client)
    run_id = client.post("/runs", json={"task": "cfd/cavity", "budget": 1}).json()["run_id"]
    artifact = store.add_artifact_bytes(run_id, b"MZ payload", kind="log", name=name)
    response = client.get(f"/artifacts/{artifact.sha256}", params={"download": "true"})
    assert response.status_code == 200 and response.content == b"MZ payload"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert _filename(disposition) == saved


def _filename(disposition: str) -> str:
    from urllib.parse import unquote

    _, _, value = disposition.partition("filename")
    if value.startswith("*=utf-8''"):
        return unquote(value.removeprefix("*=utf-8''"))
    return value.removeprefix("=").strip('"')
