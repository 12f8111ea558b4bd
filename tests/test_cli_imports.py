"""Start-up cost of the command line: modules only some commands need are imported by those commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_command_line_does_not_load_the_rest_stack_until_agent_serve() -> None:
    # FastAPI costs every `agent` command about a fifth of a second; only `agent serve` uses it.
    probe = "import sys, api.cli; print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn') if m in sys.modules))"
    shown = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"
