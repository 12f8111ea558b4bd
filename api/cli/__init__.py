"""The command-line front door: `agent run`, `agent check` and the commands that inspect runs."""

from api.cli._main import app, main

__all__ = ["app", "main"]
