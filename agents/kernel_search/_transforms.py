"""Typed rewrites of a kernel's source, each with preconditions checked before it is offered.

A `Transformation` says why it cannot apply to a source (`why_not`, None when it can) and, when it
can, returns the rewritten source with a note. The general ones work on tokens (see `_clite`):
`restrict` on global pointers the host never aliases, `const` on global pointers the kernel never
writes through, `#pragma unroll` on a loop. The structural ones (vectorisation, work per item,
local-memory tiling, fused updates) swap in one of the task's variants (see `_library`), keeping
the parent's tunable values where the variant allows them. None of them bypasses a gate: their
output is a candidate like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from random import Random
from typing import Protocol

from agents.kernel_search._clite import SourceSyntaxError, kernels, written_names
from agents.kernel_search._library import Variant, unmet_precondition, variant_of, variants_for
from tools.kernels import CandidateError, KernelTask

_FOR = re.compile(r"^([ \t]*)for\s*\(", re.MULTILINE)
UNROLL_FACTORS = (2, 4, 8)


@dataclass(frozen=True)
class Rewrite:
    kind: str
    source: str
    note: str


class Transformation(Protocol):
    kind: str

    def why_not(self, source: str) -> str | None:
        """None when the rewrite applies to `source`, else the unmet precondition."""

    def apply(self, source: str, rng: Random) -> Rewrite:
        """The rewritten source (only called when `why_not` is None)."""


def _insert_all(source: str, edits: list[tuple[int, str]]) -> str:
    for offset, text in sorted(edits, reverse=True):
        source = source[:offset] + text + source[offset:]
    return source


class RestrictPointers:
    """`restrict` on every `__global` pointer parameter: the compiler may then reorder and vectorise accesses.

    Precondition: no launch of the task passes one buffer to two parameters of the same kernel
    (checked on the task's host program), so the promise of no aliasing holds.
    """

    kind = "restrict"

    def __init__(self, task: KernelTask) -> None:
        self.task = task

    def why_not(self, source: str) -> str | None:
        try:
            found = kernels(source)
            params = self.task.parse(source).params
        except (SourceSyntaxError, CandidateError) as error:
            return f"cannot read the kernel: {error}"
        if not any(p.is_global_pointer and not p.restricted for k in found for p in k.parameters):
            return "no __global pointer parameter without restrict"
        for launch in self.task.host(self.task.sizes[0], params).launches:
            buffers = [str(arg.value) for arg in launch.args if arg.kind == "buf"]
            if len(buffers) != len(set(buffers)):
                return f"the host passes one buffer twice to {launch.kernel}: its pointers alias"
        return None

    def apply(self, source: str, rng: Random) -> Rewrite:
        edits = []
        for kernel in kernels(source):
            for parameter in kernel.parameters:
                if parameter.is_global_pointer and not parameter.restricted:
                    star = source.index("*", parameter.start, parameter.end)
                    edits.append((star + 1, " restrict"))
        return Rewrite(self.kind, _insert_all(source, edits), "restrict on the global pointers")


class ConstInputs:
    """`const` on the pointee of every `__global` pointer the kernel never writes through (read-only caching)."""

    kind = "const"

    def _targets(self, source: str) -> list[tuple[int, str]]:
        edits = []
        for kernel in kernels(source):
            written = written_names(source, kernel)
            for parameter in kernel.parameters:
                if parameter.is_global_pointer and not parameter.pointee_const and parameter.name not in written:
                    where = source.index("__global", parameter.start, parameter.end) + len("__global")
                    edits.append((where, " const"))
        return edits

    def why_not(self, source: str) -> str | None:
        try:
            return None if self._targets(source) else "every read-only __global pointer is already const"
        except SourceSyntaxError as error:
            return f"cannot read the kernel: {error}"

    def apply(self, source: str, rng: Random) -> Rewrite:
        return Rewrite(self.kind, _insert_all(source, self._targets(source)), "const on read-only global pointers")


class UnrollLoop:
    """Add `#pragma unroll N` before a loop, or change or remove the one already there."""

    kind = "unroll"

    def why_not(self, source: str) -> str | None:
        return None if _FOR.search(source) else "no for loop"

    def apply(self, source: str, rng: Random) -> Rewrite:
        match = rng.choice(list(_FOR.finditer(source)))
        start, indent = match.start(), match.group(1)
        line = source[:start].count("\n") + 1
        head = source[:start]
        previous_start = head.rstrip("\n").rfind("\n") + 1
        factor = rng.choice(UNROLL_FACTORS)
        pragma = f"{indent}#pragma unroll {factor}\n"
        if head[previous_start:].strip().startswith("#pragma unroll"):
            kept = head[:previous_start]
            if rng.random() < 0.5:
                return Rewrite(self.kind, kept + source[start:], f"stop unrolling the loop at line {line}")
            return Rewrite(self.kind, kept + pragma + source[start:], f"unroll the loop at line {line} by {factor}")
        return Rewrite(self.kind, head + pragma + source[start:], f"unroll the loop at line {line} by {factor}")


class UseVariant:
    """Swap in one of the task's structural variants (vectorised, tiled, fused...), keeping allowed tunables.

    Preconditions: the source is not already this variant, the variant defines the same kernels
    as the task's seed (so the host program still finds every kernel it launches), and what the
    variant's code assumes of the host program (`Variant.precondition`, such as a grid of VEC columns
    per work-item in whole work-groups) holds at every size and every tunable setting it may be given.
    """

    def __init__(self, task: KernelTask, variant: Variant, backend: str = "opencl") -> None:
        self.task = task
        self.variant = variant
        self.backend = backend
        self.kind = variant.kinds[0]
        self._unmet: tuple[str | None] | None = None

    def unmet(self) -> str | None:
        """The variant's own precondition on the task (the same for every source, so checked once)."""
        if self._unmet is None:
            self._unmet = (unmet_precondition(self.task, self.variant),)
        return self._unmet[0]

    def why_not(self, source: str) -> str | None:
        if self.backend not in self.variant.backends:
            return f"{self.variant.name} is written for {', '.join(self.variant.backends)}, not {self.backend}"
        if variant_of(source) == self.variant.name:
            return f"already {self.variant.name}"
        try:
            seed_names = {k.name for k in kernels(self.task.seed)}
            own = {k.name for k in kernels(self.variant.body)}
            self.task.parse(source)
        except (SourceSyntaxError, CandidateError) as error:
            return f"cannot read the kernel: {error}"
        if own != seed_names:
            return f"{self.variant.name} defines {sorted(own)}, the task launches {sorted(seed_names)}"
        unmet = self.unmet()
        return f"{self.variant.name} does not fit this task: {unmet}" if unmet else None

    def params_for(self, source: str, rng: Random) -> dict[str, int]:
        """The parent's tunables, then the variant's starting values, then any still outside what it requires
        drawn from what it allows."""
        params = dict(self.task.parse(source).params)
        for name, value in self.variant.start.items():
            if value in self.task.tunables.get(name, ()) and value in self.variant.requires.get(name, (value,)):
                params[name] = value
        for name, allowed in self.variant.requires.items():
            if params.get(name) not in allowed:
                params[name] = rng.choice(allowed)
        return params

    def apply(self, source: str, rng: Random) -> Rewrite:
        params = self.params_for(source, rng)
        kinds = "+".join(self.variant.kinds)
        return Rewrite(self.kind, self.variant.source(params), f"rewrite as {self.variant.name} ({kinds})")


def transformations(task: KernelTask, backend: str = "opencl") -> list[Transformation]:
    """Every rewrite the built-in proposer may offer on `task` (each still checks its preconditions)."""
    general: list[Transformation] = [RestrictPointers(task), ConstInputs(), UnrollLoop()]
    return general + [UseVariant(task, variant, backend) for variant in variants_for(task.name)]


def allowed_values(task: KernelTask, source: str, name: str) -> tuple[int, ...]:
    """A tunable's values the source's variant allows (all the task's values for the seed's family)."""
    own = variant_of(source)
    for variant in variants_for(task.name):
        if variant.name == own and name in variant.requires:
            return tuple(v for v in task.tunables[name] if v in variant.requires[name])
    return task.tunables[name]
