"""The REST API answers as its OpenAPI document says: schemathesis with every check, plus the cases it found.

`--checks all` covers undocumented status codes, error bodies that do not match their schema,
schema-valid requests refused and schema-violating ones accepted, authentication that is declared
but not enforced, and `Allow` headers that disagree with the document. One override, stated here:
a POST /runs body can fit the schema and still name a task or parameter the catalog refuses
(which tasks exist is the catalog's, not the schema's), so 422 counts as an answer to valid data there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api._app import create_app
from api._settings import Settings
from tests.api_server import serve_process

TOKEN = "conformance-token-0123456789"
CONFIG = """\
[[operations]]
include-path-regex = "^/runs$"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]
"""


@pytest.mark.slow
def test_schemathesis_with_every_check_finds_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    st = Path(sys.executable).parent / "st"
    # Every guarded operation is probed without its token many times a minute: the failed-authentication
    # backoff (tested in test_api_security) would answer 429 before the 401 this test checks for.
    env = {"LABGATE_API_TOKEN": TOKEN, "LABGATE_AUTH_FAILURES_PER_MINUTE": "100000"}
    with serve_process(home, env=env, workers=0) as url:
        command = [str(st), "--config-file", str(config), "run", f"{url}/openapi.json", "--checks", "all"]
        command += ["-H", f"Authorization: Bearer {TOKEN}", "--max-examples", "10", "--seed", "7", "--no-color"]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


@pytest.fixture
def client(tmp_path: Path) -> Any:
    app = create_app(Settings(home=tmp_path, run_workers=0, api_token=TOKEN), start_workers=False)
    with TestClient(app) as client:
        yield client
        app.state.labgate.store.engine.dispose()


def _problems(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    assert response.status_code == 422 and isinstance(body["detail"], list), body
    assert all({"loc", "msg", "type"} <= set(item) for item in body["detail"])
    return list(body["detail"])


def test_every_422_lists_its_problems_whoever_finds_them(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert _problems(client.get("/runs", params={"until": "0.5"}))[0]["loc"] == ["query", "until"]
    assert _problems(client.get("/runs", params={"since": "9999-12-31T23:59:59-14:00"}))[0]["loc"] == ["query", "since"]
    assert _problems(client.get("/runs", params={"task": "a\x00b"}))  # refused by the guard, before any handler
    assert _problems(client.post("/runs", json={}, headers=auth))  # neither task nor spec
    assert _problems(client.post("/runs", json={"spec": {}}, headers=auth))[0]["loc"] == ["body", "spec"]
    assert _problems(client.post("/runs", json={"task": "cfd/cavity", "approve_plan": 0}, headers=auth))
    assert _problems(client.get("/runs/20200101-000000-abcdef/events", headers={"Last-Event-ID": "null"}))


def test_a_date_filter_reads_iso_dates_and_no_bare_numbers(client: TestClient) -> None:
    assert client.get("/runs", params={"since": "2026-01-01T00:00:00Z"}).status_code == 200
    assert client.get("/runs", params={"until": "2026-01-01"}).status_code == 200
    assert client.get("/runs", params={"until": "1e9"}).status_code == 422


def test_other_refusals_are_one_sentence_and_documented(client: TestClient) -> None:
    missing = client.get("/artifacts/" + "0" * 64)
    assert missing.status_code == 404 and isinstance(missing.json()["detail"], str)
    document = client.get("/openapi.json").json()
    assert "404" in document["paths"]["/artifacts/{sha256}"]["get"]["responses"]
    post = document["paths"]["/runs"]["post"]["responses"]
    assert {"400", "401", "403", "413", "422", "429"} <= set(post)
    malformed = client.post("/runs", content=b"{not json", headers={"Authorization": f"Bearer {TOKEN}"})
    assert malformed.status_code in (400, 422)


def test_a_refused_method_names_every_method_of_the_path(client: TestClient) -> None:
    refused = client.request("DELETE", "/runs")
    assert refused.status_code == 405
    allowed = {method.strip() for method in refused.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "DELETE" not in allowed
