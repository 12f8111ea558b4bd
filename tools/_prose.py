"""How a workload's parameters are stated in prose, for the rule planner that reads them from documents.

The vocabulary belongs to the workload (only CFD knows that "Reynolds number" means `re`), so each
workload declares its patterns and the planner asks the task's workload for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, eq=False)
class ProsePattern:
    """Regular expressions (matched case-insensitively) whose first group states a parameter's values.

    `values="numbers"` reads every number in the group ("100, 400 and 1,000"); `values="word"` takes
    the group as one value, spelled as `aliases` says (keys lowercase) when it is one of its keys.
    """

    regexes: tuple[str, ...]
    values: Literal["numbers", "word"] = "numbers"
    aliases: Mapping[str, str] = field(default_factory=dict)

    def canonical(self, word: str) -> str:
        """The parameter value a matched word stands for (`k-epsilon` for `kEpsilon`, say)."""
        return self.aliases.get(word.lower(), word)
