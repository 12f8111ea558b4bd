"""Running a stock OpenFOAM tutorial through `agent run cfd/case`, for the tests of cases of other shapes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import agent

EXAMPLES = Path("/usr/share/doc/openfoam-examples/examples")


def rerun_stock_case(
    relative: str, home: Path, tmp_path: Path, *params: str
) -> tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]:
    """Copy tutorial `relative` (skipped when not installed), re-run it with `params`; the copy, the run's
    JSON summary and its verdicts by gate."""
    source = EXAMPLES / relative
    if not source.is_dir():
        pytest.skip(f"the OpenFOAM tutorial {source} is not installed (apt-get install openfoam-examples)")
    case = tmp_path / source.name
    shutil.copytree(source, case)
    arguments = [f"--param=case_dir={case}", *(f"--param={param}" for param in params)]
    result = agent("run", "cfd/case", *arguments, "--json", home=home, timeout=600)
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return case, report, {verdict["gate"]: verdict for verdict in report["verdicts"]}
