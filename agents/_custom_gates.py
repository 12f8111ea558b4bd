"""The report's statement of custom gates, placed under its title.

Gate settings are part of a result: a run judged by other gates or thresholds than its catalog task
says so before anything else: it is not the catalog task's result.
"""

from __future__ import annotations

from agents._markdown import escape_markdown
from runs import TaskSpec


def custom_gates_lines(task: TaskSpec) -> list[str]:
    """Markdown lines for the deviations recorded on `task` at submission; none for an unmodified task."""
    if not task.gate_deviations:
        return []
    # Option values are the submitter's (an axiom name, a threshold): literal text, never a link or emphasis.
    changes = escape_markdown("; ".join(deviation.describe() for deviation in task.gate_deviations), one_line=True)
    return [f"**custom gates: {changes}.** The gates differ from the catalog task's: these are not its results.", ""]
