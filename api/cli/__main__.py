"""`python -m api.cli`: the same as the `agent` command."""

from api.cli._entry import main

main()
