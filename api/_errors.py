"""Errors the command line reports as one line with exit code 2.

Kept out of `api.cli` so that command modules can raise it even when `api.cli` runs as
`__main__` (`python -m api.cli`), where importing `api.cli` again would make a second class.
"""

from runs import LabgateError


class BadInputError(LabgateError):
    """Reported as one line on stderr with exit code 2."""
