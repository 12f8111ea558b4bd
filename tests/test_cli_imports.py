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


def test_the_command_line_loads_the_graph_planner_and_write_up_only_when_a_run_needs_them() -> None:
    # LangGraph (~0.6 s), the document planner and markdown-it are imported by the code that uses them:
    # `agent runs` or `agent show` never pays for them, and `agent run` pays for the planner only with --docs.
    heavy = ("langgraph", "langchain_core", "agents.planner", "agents._writer", "markdown_it")
    probe = f"import sys, api.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    shown = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"


def test_the_lazily_loaded_exports_of_agents_are_the_modules_own_objects() -> None:
    probe = (
        "import agents, agents._writer, agents._markdown, agents.cfd_search\n"
        "print(agents.write_report is agents._writer.write_report,"
        " agents.render_markdown is agents._markdown.render_markdown,"
        " agents.SearchRevisionPolicy is agents.cfd_search.SearchRevisionPolicy)\n"
        "try:\n    agents.no_such_name\nexcept AttributeError as error:\n    print(error)\n"
    )
    shown = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines() == ["True True True", "module 'agents' has no attribute 'no_such_name'"]


def test_an_experiment_on_a_ray_worker_does_not_load_the_run_store() -> None:
    # A Ray worker imports labgate anew for every run (Ray starts each job's workers afresh); it never opens
    # the store, whose SQLAlchemy and SQLModel were half its import time.
    probe = (
        "import sys, agents.executors._ray, tools.cfd, tools.kernels, tools.proofs\n"
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'runs._store', 'runs._tables') if m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"


def test_the_lazily_loaded_exports_of_runs_are_the_store_modules_own_objects() -> None:
    probe = (
        "import runs, runs._store, runs._tables\n"
        "print(runs.RunStore is runs._store.RunStore, runs.Run is runs._tables.Run,"
        " runs.RUN_SORT_KEYS is runs._store.RUN_SORT_KEYS)\n"
        "try:\n    runs.no_such_name\nexcept AttributeError as error:\n    print(error)\n"
    )
    shown = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines() == ["True True True", "module 'runs' has no attribute 'no_such_name'"]
