"""Property-based requests from the served OpenAPI document (schemathesis): no input gets a 5xx.

Every operation is fed data that fits its schema and data that does not (schemathesis' positive
and negative generation). Runs on SQLite and, where LABGATE_TEST_POSTGRES_URL is set (CI), on
PostgreSQL, whose text type refuses NUL characters and whose integers overflow: exactly what a
fuzzer sends. Examples per operation and mode are bounded to keep the suite within its time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from api._app import create_app
from api._settings import Settings
from tests.databases import BACKENDS, database_url

EXAMPLES = 25
"""Per operation and generation mode: about 25 x 2 x 11 operations = 550 requests per database."""


def _fuzz(operation: Any, mode: GenerationMode) -> list[str]:
    problems: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call()
        if response.status_code >= 500:
            problems.append(
                f"{case.method} {case.formatted_path} query={case.query} body={case.body!r:.300} -> "
                f"{response.status_code}: {response.text[:300]}"
            )
            raise AssertionError(problems[-1])

    try:
        run()
    except AssertionError:
        pass  # hypothesis shrank to the smallest failing case; it is in `problems`
    except Unsatisfiable:
        pass  # nothing to get wrong (an operation without parameters has no negative cases)
    return problems[-1:]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.slow
def test_no_request_gets_a_server_error(backend: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with database_url(backend) as url:
        app = create_app(Settings(home=home, database_url=url, run_workers=0), start_workers=False)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 10
        problems = [
            problem
            for operation in operations
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for problem in _fuzz(operation, mode)
        ]
        app.state.labgate.store.engine.dispose()
    assert problems == []
