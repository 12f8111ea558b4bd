"""`python -m api.cli`: the same as the `agent` command."""

from api.cli._main import main

main()
