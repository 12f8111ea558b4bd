"""Gate settings at submission: checked against each gate's typed options, compared with the catalog's.

The gates themselves live in `verifiers`, which the catalog may not import; the front door hands the
catalog a validator (`verifiers.validate_gate_options`) instead. A task whose gates or gate options
differ from those of the catalog task it names or extends is a different study: each difference is
recorded on the task, so that the run never passes for the catalog task's result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runs import GateDeviation, TaskSpec
from tools._repeated import listed_twice
from tools._workload import TaskError

GateOptionsValidator = Callable[[str, Mapping[str, Any]], dict[str, Any]]
"""Every option of the named gate, defaults included, as JSON; raises ValueError naming what is wrong
(an unknown gate, an unknown option, a value out of bounds)."""


def check_gate_settings(task: TaskSpec, validator: GateOptionsValidator) -> None:
    """Refuse a task whose gates or gate options are not what the gates accept.

    Options given for a gate the task does not list are checked as well: a misspelled gate name in
    `gate_options` would otherwise leave the real gate at its defaults without a word.

    Raises:
        TaskError: one message naming every problem found.
    """
    problems: list[str] = []
    repeated = sorted(listed_twice(task.gates))
    if repeated:
        problems.append(f"gates listed more than once: {', '.join(repeated)}")
    for name in dict.fromkeys([*task.gates, *task.gate_options]):
        try:
            validator(name, task.gate_options.get(name, {}))
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise TaskError(f"{task.id}: invalid gate settings: {'; '.join(problems)}")


def gate_deviations(
    task: TaskSpec, reference: TaskSpec, validator: GateOptionsValidator | None = None
) -> list[GateDeviation]:
    """Every difference between `task`'s gates and `reference`'s, loosened or tightened alike.

    Options are compared with their defaults filled in by `validator` (when given), so stating a
    default explicitly is no deviation while changing it is, whether the catalog states it or not.
    """
    deviations = [GateDeviation(gate=name, change="removed") for name in reference.gates if name not in task.gates]
    deviations += [GateDeviation(gate=name, change="added") for name in task.gates if name not in reference.gates]
    common_submitted = [name for name in task.gates if name in reference.gates]
    common_catalog = [name for name in reference.gates if name in task.gates]
    if common_submitted != common_catalog:
        # The first gate that does not accept decides an experiment's fate, so the order is a setting too.
        deviations.append(
            GateDeviation(
                gate=", ".join(common_submitted), change="reordered", catalog=common_catalog, submitted=common_submitted
            )
        )
    for name in common_catalog:
        submitted = _full_options(name, task.gate_options.get(name, {}), validator)
        catalog = _full_options(name, reference.gate_options.get(name, {}), validator)
        for option in sorted({*submitted, *catalog}):
            if submitted.get(option) != catalog.get(option):
                deviations.append(
                    GateDeviation(
                        gate=name,
                        change="option",
                        option=option,
                        catalog=catalog.get(option),
                        submitted=submitted.get(option),
                    )
                )
    return deviations


def _full_options(name: str, options: Mapping[str, Any], validator: GateOptionsValidator | None) -> dict[str, Any]:
    if validator is None:
        return dict(options)
    try:
        return validator(name, options)
    except ValueError:
        return dict(options)  # the catalog's own settings are checked by its tests, never here
