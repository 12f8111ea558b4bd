"""Say, before work starts, where the local sandbox is weaker on this machine than the README promises.

The run still goes ahead (the gap is also recorded in the run's environment), but a user reading
only the terminal learns it at the start, not from the report's provenance afterwards.
"""

from __future__ import annotations

import sys

from sandboxes import isolation_gaps


def announce_isolation_gaps(backend: str | None, unsafe_no_isolation: bool) -> None:
    """One warning line on stderr per gap, when the work runs in the isolated local sandbox."""
    if unsafe_no_isolation or (backend or "local") != "local":
        return
    for gap in isolation_gaps():
        print(
            f"agent: warning: local sandbox: {gap}; limits are weaker than documented (--sandbox docker avoids this)",
            file=sys.stderr,
        )
