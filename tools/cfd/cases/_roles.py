"""What each case parameter is to a result: the question asked, how it is solved, or what it is judged by.

A revision (the LLM's after a gate's `rerun` or `revise`, or a workload's gentler numerics) reruns a failed
experiment to answer the *same* question. A revision that changed the Reynolds number, a turbulence model or
a coefficient set answered another one and was accepted under the failed experiment's key; one that
coarsened the mesh, cut the run short or loosened the residual target left the self-referential gates
(mesh independence against its own mesh, the solver log against its own end, the held-out baseline built
from the candidate's own numerics) less to see. So every parameter of a case family carries its role:

- `physics`: the flow asked about (Reynolds number, speeds, lengths, turbulence model and coefficients);
- `judging`: what a gate judges against (a velocity scale, a reference file, the case folder itself);
- `numerics`: how the flow is solved, with the direction that is the more careful one (more cells, more
  iterations, a smaller time step, a tighter residual target).

A revision keeps physics and judging parameters as they were and moves numerics only the careful way.
Parameters without a role are kept too: a new parameter is fixed until someone says what it is.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

Role = Literal["physics", "numerics", "judging"]
Careful = Literal["more", "less"]

PHYSICS: dict[str, Any] = {"role": "physics"}
"""The flow asked about: a revision keeps it."""
JUDGING: dict[str, Any] = {"role": "judging"}
"""What a gate judges against: a revision keeps it."""


SCHEMA_NOTE = (
    "Each parameter's `role`: a rerun of an experiment keeps its `physics` (the flow asked about) and `judging` "
    "(what a gate judges against) values, and moves `numerics` only the `careful` way (more: up, less: down)."
)
"""Said in the schema shown to a proposer, so that it proposes what a revision may run."""


def numerics(careful: Careful, effective: str | None = None) -> dict[str, Any]:
    """Schema metadata of a numerics parameter: `careful` is the direction a gentler rerun moves it, and
    `effective` names the model's property that holds the value the run uses (a default None stands for
    one the case derives: the Courant number's time step, the end time that grows with Re)."""
    extra: dict[str, Any] = {"role": "numerics", "careful": careful}
    if effective is not None:
        extra["effective"] = effective
    return extra


def role_of(field: FieldInfo) -> tuple[Role | None, Careful | None, str | None]:
    """(role, careful direction, effective property) of a parameter, from its schema metadata."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    effective = extra.get("effective")
    return (
        _ROLES.get(str(extra.get("role"))),
        _DIRECTIONS.get(str(extra.get("careful"))),
        effective if isinstance(effective, str) else None,
    )


_ROLES: dict[str, Role] = {"physics": "physics", "numerics": "numerics", "judging": "judging"}
_DIRECTIONS: dict[str, Careful] = {"more": "more", "less": "less"}


def _shown(value: Any) -> str:
    if isinstance(value, BaseModel):
        changed = value.model_dump(exclude_defaults=True)
        return str(changed) if changed else "the defaults"
    return f"{value:g}" if isinstance(value, float) else repr(value)


def revision_problems(before: BaseModel, after: BaseModel) -> list[str]:
    """Why parameters `after` are no revision of `before` (both parsed by the same family's model).

    Compared as parsed, so a spelling (`Re`), a string number (`"400"`) or a nested default written out
    is the value it stands for, not a change.
    """
    problems = []
    for name, field in type(before).model_fields.items():
        role, careful, effective = role_of(field)
        old, new = getattr(before, name), getattr(after, name)
        if role != "numerics" or careful is None:
            if old != new:
                what = {"physics": "the flow asked about", "judging": "what a gate judges against"}.get(
                    role or "", "not classified as numerics"
                )
                problems.append(f"{name} is {what} and stays {_shown(old)} (proposed {_shown(new)})")
            continue
        if effective is not None:
            old, new = getattr(before, effective), getattr(after, effective)
        if old == new:
            continue
        way = "up" if careful == "more" else "down"
        moved = f"{effective + ' ' if effective else ''}{_shown(old)} -> {_shown(new)}"
        if old is None or new is None or not _numbers(old, new):
            problems.append(f"{name} may only go {way} in a revision, and {moved} cannot be compared")
        elif (new < old) if careful == "more" else (new > old):
            problems.append(f"{name} may only go {way} in a revision (the more careful way), not {moved}")
    return problems


def _numbers(*values: Any) -> bool:
    return all(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) for value in values
    )


def unclassified(model: type[BaseModel]) -> list[str]:
    """The parameters of `model` with no role (kept by every revision until one is given)."""
    return [name for name, field in model.model_fields.items() if role_of(field)[0] is None]
