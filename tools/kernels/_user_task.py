"""A kernel task defined by a user's task file: `params.definition` of a `kernels` task.

The definition declares everything a suite module writes in Python, as data: the size names and
the search and held-out sizes, the kernel arguments (buffers with dtype, shape and role, scalars),
the launches, the tunables, an input distribution per input buffer, the tolerance (or bit-exactness),
bytes and FLOPs per size for the roofline, the reference (a NumPy function in a `.py` file or an
OpenCL C kernel) and the seed kernel. Shapes, grids, scalars and work are arithmetic on the size
names, parsed by `_expressions` (never evaluated as Python). The reference is code, so it runs only
in a sandboxed worker of its own (`_reference_run`), opened beside the candidates' worker by
`open_harness`; the host only draws inputs, builds the host program and compares.

Every problem with a definition is a TaskError naming the field (`params.definition.args[1].dtype`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from tools._catalog import describe_validation_error
from tools._workload import SandboxFactory, TaskError
from tools.kernels._client import Worker, WorkerCrashedError, WorkerTimeoutError
from tools.kernels._definition import (
    DTYPES,
    FIELD,
    ArgDefinition,
    Distribution,
    KernelDefinition,
    LaunchDefinition,
    field_error,
)
from tools.kernels._expressions import Expression, parse_expression
from tools.kernels._heldout import RESIDUE_PICKERS, NoDimensionError, distinct, is_prime, prime_in
from tools.kernels._task import (
    GAP_PICKERS,
    SCALE_DECADES,
    Arg,
    BufferSpec,
    CandidateError,
    Check,
    HostProgram,
    KernelTask,
    Launch,
    ScalarRange,
    Size,
    Work,
    allclose_check,
    bounded_check,
    exact_check,
    grid,
)

MAX_TOTAL_BYTES = 4 << 30
"""Bytes of all buffers at one size: the host draws the inputs and both workers hold a copy."""
REFERENCE_TIMEOUT = 300.0
"""Seconds one reference computation may take before its worker is killed and the task reported broken."""
MAX_GROUP_ITEMS = 4096
"""The largest work-group a launch may ask for (PoCL's CPU device allows 4096; GPUs 1024)."""
MAX_TUNABLES = 32
MAX_TUNABLE_VALUES = 64
"""A task file's tunables and each one's values: the suite's kernels have two or three of a handful each. Each
setting is checked at every size and launch, and 4,000 tunables took 8.6 s to load (26 s for one REST body)."""
MAX_DIM = 2**31 - 1
"""The largest size a definition may declare: sizes reach kernels as `int` arguments and grid extents."""
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KERNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class _Buffer:
    name: str
    dtype: str
    shape: tuple[Expression, ...]
    role: Literal["in", "out", "inout", "scratch"]
    init: Distribution


@dataclass(frozen=True)
class _Scalar:
    name: str
    kind: Literal["i32", "u32", "f32"]
    value: Expression
    drawn: tuple[float, float] | None = None
    """The declared `range`: each run draws the value from it (`value` is then the default)."""


@dataclass(frozen=True)
class _Launch:
    kernel: str
    global_size: tuple[Expression, ...]
    local: tuple[Expression, ...] | None
    args: tuple[str, ...]


def _identifier(name: str, where: str, taken: dict[str, str]) -> None:
    if not _IDENTIFIER.match(name):
        raise field_error(where, f"{name!r} is not a valid name (letters, digits and _, not starting with a digit)")
    if name in taken:
        raise field_error(where, f"name {name!r} is already used by {taken[name]}")
    taken[name] = where


class UserKernelTask(KernelTask):
    """A `KernelTask` built from a validated definition; its reference runs in a sandboxed worker."""

    reference_from_user = True

    def __init__(self, name: str, definition: KernelDefinition) -> None:
        self.definition = definition
        self._runner: Worker | None = None
        self._repeatable = False
        taken: dict[str, str] = {}
        self.dims = tuple(definition.dims)
        for index, dim in enumerate(self.dims):
            _identifier(dim, f"dims[{index}]", taken)
        tunables = self._tunables(definition, taken)
        self._ranges = {label: self._range(label, dims) for label, dims in definition.heldout.items()}
        searched = {
            tuple(dims[dim] for dim in self.dims) for dims in definition.sizes.values() if set(dims) == set(self.dims)
        }
        self._held_out_of_search(searched)
        # What a suite module declares on its class, declared per instance (one definition, one task).
        vars(self).update(
            name=name,
            title=definition.title or f"{name}: kernel task from a task file",
            regime=definition.regime,
            contract=definition.contract,
            exact=definition.tolerance == "exact",
            whole_variants=definition.whole_variants,
            tunables=tunables,
            sizes=tuple(self._size(label, dims, f"sizes.{label}") for label, dims in definition.sizes.items()),
            heldout=tuple(
                Size(label, tuple((low + high) // 2 for low, high in ranges)) for label, ranges in self._ranges.items()
            ),
        )
        self._buffers: dict[str, _Buffer] = {}
        self._scalars: dict[str, _Scalar] = {}
        self._order: list[str] = []
        for index, arg in enumerate(definition.args):
            self._arg(index, arg, taken)
        vars(self)["scale_free_inputs"] = tuple(arg.name for arg in definition.args if arg.scale_free)
        vars(self)["scalar_ranges"] = {
            name: ScalarRange(scalar.drawn[0], scalar.drawn[1], integer=scalar.kind != "f32")
            for name, scalar in self._scalars.items()
            if scalar.drawn is not None
        }
        if not any(buffer.role in ("out", "inout") for buffer in self._buffers.values()):
            raise field_error("args", "no buffer has role out or inout: the kernel must produce something to check")
        if not any(buffer.role in ("in", "inout") for buffer in self._buffers.values()):
            raise field_error(
                "args", "no buffer has role in or inout: every run needs inputs of its own to compute from"
            )
        self._launches = tuple(self._launch(index, launch) for index, launch in enumerate(definition.launches))
        self._work = (
            parse_expression(definition.work.bytes, f"{FIELD}.work.bytes", self.dims),
            parse_expression(definition.work.flops, f"{FIELD}.work.flops", self.dims),
        )
        self.reference_kind, self.reference_source = self._reference(definition)
        if not definition.seed.endswith(".cl"):
            raise field_error("seed", f"{definition.seed!r} must be an OpenCL C file (.cl)")
        vars(self).update(seed=self._file(definition.seed, "seed"))
        try:
            self.parse(self.seed)
        except CandidateError as error:
            raise field_error("seed", f"{definition.seed}: {error}") from None
        for where, size in self._extremes():
            program = self.host(size, self.defaults())
            work = self.work(size)
            # The roofline's fractions and the physics floor (a run faster than its bytes allow) divide by these.
            if not (math.isfinite(work.bytes) and work.bytes > 0):
                raise field_error("work.bytes", f"is {work.bytes:g} at {size.describe()}: a kernel moves some bytes")
            if not (math.isfinite(work.flops) and work.flops >= 0):
                raise field_error("work.flops", f"is {work.flops:g} at {size.describe()}: at least 0")
            total = sum(spec.nbytes for spec in program.buffers)
            if total > MAX_TOTAL_BYTES:
                raise field_error(
                    where, f"the buffers take {total} bytes at {size.describe()}; the limit is {MAX_TOTAL_BYTES}"
                )
            for dim, value in zip(self.dims, size.dims, strict=True):
                # A size no buffer grows with escapes the byte limit; drawing primes near 1e20 would not end.
                if value > MAX_DIM:
                    raise field_error(f"{where}.{dim}", f"{value} is larger than the largest size, {MAX_DIM}")
            for scalar in self._scalars:  # the reference receives every scalar, launched or not
                self._check_scalar(scalar, size)
            self._check_grid(where, size)

    def _check_grid(self, where: str, size: Size) -> None:
        """Every launch's extents at `size`, with the tunables' defaults and with each tunable at each of its
        values, name at least one work-item, and its work-group (0: the runtime's choice) at most
        MAX_GROUP_ITEMS: a grid of -n or 0 was run as one item, and the seed was blamed for the outputs it never
        wrote; a listed value no launch can take (LOCAL 5000, -64) was offered to the search and its failure
        blamed on the candidate."""
        defaults = self.defaults()
        settings = [("", defaults)] + [
            (f" with {name}={value}", {**defaults, name: value})
            for name, values in self.tunables.items()
            for value in values[1:]
        ]
        for setting, tunables in settings:
            bound: dict[str, int | float] = {**self._values(size), **tunables}
            for index, launch in enumerate(self._launches):
                for key, extents in (("global", launch.global_size), ("local", launch.local or ())):
                    values = [expression.integer(bound) for expression in extents]
                    least = 1 if key == "global" else 0  # a local extent of 0 lets the runtime choose the group
                    if any(value < least for value in values):
                        raise field_error(
                            f"launches[{index}].{key}",
                            f"evaluates to {values} at {size.describe()}{setting} ({where}): every extent must be "
                            f"at least {least}",
                        )
                    if key == "local" and math.prod(values) > MAX_GROUP_ITEMS:
                        raise field_error(
                            f"launches[{index}].local",
                            f"{math.prod(values)} items in a work-group at {size.describe()}{setting}; at most "
                            f"{MAX_GROUP_ITEMS}",
                        )

    def _extremes(self) -> Iterator[tuple[str, Size]]:
        """Every search size and both ends of every held-out range, with the field each comes from."""
        for size in self.sizes:
            yield f"sizes.{size.label}", size
        for label, ranges in self._ranges.items():
            for end in (0, 1):
                yield f"heldout.{label}", Size(label, tuple(pair[end] for pair in ranges))

    # -- reading the definition --------------------------------------------------------------------

    def _tunables(self, definition: KernelDefinition, taken: dict[str, str]) -> dict[str, tuple[int, ...]]:
        tunables = {}
        if len(definition.tunables) > MAX_TUNABLES:
            raise field_error("tunables", f"lists {len(definition.tunables)} tunables; at most {MAX_TUNABLES}")
        for name, values in definition.tunables.items():
            if len(values) > MAX_TUNABLE_VALUES:
                raise field_error(f"tunables.{name}", f"lists {len(values)} values; at most {MAX_TUNABLE_VALUES}")
            _identifier(name, f"tunables.{name}", taken)
            if not values or len(set(values)) != len(values):
                raise field_error(f"tunables.{name}", "must list distinct integer values (the first is the default)")
            if any(not -(2**31) <= value < 2**31 for value in values):
                raise field_error(f"tunables.{name}", "values must fit a 32-bit int (the kernel sees them as its own)")
            tunables[name] = tuple(values)
        return tunables

    def _held_out_of_search(self, searched: set[tuple[int, ...]]) -> None:
        """A held-out range must hold a size the search does not run.

        `heldout: {h: {n: 4096}}` beside `sizes: {s: {n: 4096}}` made the held-out gate re-check the
        searched size: a kernel special-casing n == 4096 (answers for that size alone) passed it.
        """
        for label, ranges in self._ranges.items():
            choices = [_drawable(low, high, len(searched)) for low, high in ranges]
            if any(choice is None for choice in choices):
                continue  # more sizes to draw from than the search runs
            if all(dims in searched for dims in itertools.product(*(choice or () for choice in choices))):
                raise field_error(
                    f"heldout.{label}",
                    "only holds sizes the search runs: a held-out size must be one the search never sees "
                    "(give a wider range, or another size)",
                )

    def _size(self, label: str, dims: Mapping[str, int], where: str) -> Size:
        if set(dims) != set(self.dims):
            raise field_error(where, f"must give exactly the size names {', '.join(self.dims)} (got {', '.join(dims)})")
        for dim, value in dims.items():
            if value < 1:
                raise field_error(f"{where}.{dim}", f"{value} is not a positive size")
        return Size(label, tuple(dims[dim] for dim in self.dims))

    def _range(self, label: str, dims: Mapping[str, int | tuple[int, int]]) -> tuple[tuple[int, int], ...]:
        where = f"heldout.{label}"
        if set(dims) != set(self.dims):
            raise field_error(where, f"must give exactly the size names {', '.join(self.dims)} (got {', '.join(dims)})")
        ranges = []
        for dim in self.dims:
            value = dims[dim]
            low, high = (value, value) if isinstance(value, int) else value
            if not 1 <= low <= high:
                raise field_error(f"{where}.{dim}", f"[{low}, {high}] is not a range of positive sizes (low <= high)")
            ranges.append((low, high))
        return tuple(ranges)

    def _arg(self, index: int, arg: ArgDefinition, taken: dict[str, str]) -> None:
        where = f"args[{index}]"
        # A scalar that passes a size by its own name (`{name: n, type: i32, value: n}`) is that size.
        passes_size = arg.type != "buffer" and arg.name in self.dims and str(arg.value).strip() == arg.name
        if not passes_size:
            _identifier(arg.name, f"{where}.name", taken)
        elif arg.name in self._order:
            raise field_error(f"{where}.name", f"argument {arg.name!r} is declared twice")
        self._order.append(arg.name)
        if arg.type == "buffer" and arg.range is not None:
            raise field_error(f"{where}.range", "a buffer has no range (its inputs are drawn from init)")
        if arg.type != "buffer":
            for extra in ("dtype", "shape", "role", "init"):
                if getattr(arg, extra) is not None:
                    raise field_error(f"{where}.{extra}", f"a scalar ({arg.type}) argument has no {extra}")
            if arg.scale_free:
                raise field_error(f"{where}.scale_free", "only buffers can be scale-free (give a scalar a range)")
            if arg.value is None:
                raise field_error(f"{where}.value", f"a scalar ({arg.type}) argument needs a value (an expression)")
            value = parse_expression(arg.value, f"{FIELD}.{where}.value", self.dims)
            drawn = None
            if arg.range is not None:
                if passes_size:
                    raise field_error(
                        f"{where}.range", f"{arg.name} passes the size {arg.name}: sizes are drawn already"
                    )
                drawn = self._scalar_range(arg.type, arg.range, f"{where}.range")
            self._scalars[arg.name] = _Scalar(arg.name, arg.type, value, drawn)
            return
        if arg.value is not None:
            raise field_error(f"{where}.value", "a buffer argument has no value (give dtype, shape, role, init)")
        if arg.dtype is None:
            raise field_error(f"{where}.dtype", f"a buffer needs a dtype (one of {', '.join(DTYPES)})")
        if arg.dtype not in DTYPES:
            raise field_error(f"{where}.dtype", f"unknown dtype {arg.dtype!r} (known: {', '.join(DTYPES)})")
        if arg.shape is None:
            raise field_error(f"{where}.shape", "a buffer needs a shape (an expression of the size names, or a list)")
        if arg.role is None:
            raise field_error(f"{where}.role", "a buffer needs a role: in, out, inout or scratch")
        shapes = arg.shape if isinstance(arg.shape, list) else [arg.shape]
        if not 1 <= len(shapes) <= 4:
            raise field_error(f"{where}.shape", "a shape has one to four dimensions")
        shape = tuple(parse_expression(text, f"{FIELD}.{where}.shape", self.dims) for text in shapes)
        if arg.init is not None and arg.role not in ("in", "inout"):
            raise field_error(f"{where}.init", f"only in and inout buffers are drawn; this one is {arg.role}")
        init = arg.init or (
            Distribution(integers=(0, 100)) if np.dtype(arg.dtype).kind in "iu" else Distribution(uniform=(0.0, 1.0))
        )
        self._check_distribution(init, arg.dtype, f"{where}.init")
        if arg.scale_free:
            self._check_scale_free(init, arg.dtype, arg.role, f"{where}.scale_free")
        self._buffers[arg.name] = _Buffer(arg.name, arg.dtype, shape, arg.role, init)

    @staticmethod
    def _check_scale_free(init: Distribution, dtype: str, role: str, where: str) -> None:
        """A scale-free buffer is a float input whose every draw stays finite at the largest scale."""
        if role not in ("in", "inout") or np.dtype(dtype).kind != "f":
            raise field_error(where, f"only float in or inout buffers can be scale-free; this one is {dtype} {role}")
        low: float
        high: float
        if init.integers is not None:
            low, high = init.integers
        elif init.normal is not None:
            low = high = abs(init.normal[0]) + NORMAL_REACH * init.normal[1]  # as `_check_distribution` bounds draws
        else:
            low, high = init.uniform or (0.0, 1.0)
        largest = 10.0 ** SCALE_DECADES[1]
        if not _representable(dtype, low * largest, high * largest):
            raise field_error(
                where, f"its values times {largest:.0e} (the largest scale the held-out gate draws) exceed {dtype}"
            )

    @staticmethod
    def _check_distribution(init: Distribution, dtype: str, where: str) -> None:
        given = [name for name in ("uniform", "normal", "integers") if getattr(init, name) is not None]
        if len(given) != 1:
            raise field_error(
                where, "give exactly one of uniform: [low, high], normal: [mean, std], integers: [low, high]"
            )
        kind = np.dtype(dtype).kind
        if init.integers is not None:
            low, high = init.integers
            # A float buffer's integers are drawn as int64 first: its bounds hold there too.
            info = np.iinfo(dtype) if kind in "iu" else np.iinfo(np.int64)
            if not low < high or low < info.min or high > info.max:
                raise field_error(
                    f"{where}.integers", f"[{low}, {high}] must be a range (low < high) of {info.dtype} values"
                )
            if kind not in "iu" and not _distinct(dtype, low, high):
                raise field_error(f"{where}.integers", f"[{low}, {high}]: {dtype} holds one value of this range")
        elif kind in "iu":
            raise field_error(where, f"an integer buffer ({dtype}) is drawn with integers: [low, high]")
        elif init.uniform is not None:
            start, end = init.uniform
            if not start < end:
                raise field_error(f"{where}.uniform", "must be [low, high] with low < high")
            if not (_representable(dtype, start, end) and math.isfinite(end - start)):
                raise field_error(f"{where}.uniform", f"[{start}, {end}] must be finite {dtype} values")
            if not _distinct(dtype, start, end):
                raise field_error(f"{where}.uniform", f"[{start}, {end}]: {dtype} holds one value of this range")
        elif init.normal is not None:
            mean, std = init.normal
            if not std > 0:
                raise field_error(f"{where}.normal", "must be [mean, std] with std > 0")
            if not _representable(dtype, abs(mean) + NORMAL_REACH * std):
                raise field_error(
                    f"{where}.normal", f"[{mean}, {std}]: draws would reach beyond the finite {dtype} values"
                )
            if not _distinct(dtype, mean - std, mean + std):
                raise field_error(
                    f"{where}.normal", f"[{mean}, {std}]: {dtype} holds one value within a std of the mean"
                )

    @staticmethod
    def _scalar_range(kind: str, bounds: tuple[float, float], where: str) -> tuple[float, float]:
        """A scalar's `range`, checked: finite, low < high, within its type (whole numbers for i32/u32), and
        holding two values at least (else every draw is one constant again)."""
        low, high = bounds
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise field_error(where, f"[{low}, {high}] must be finite with low < high")
        if kind == "f32":
            if not _representable("float32", low, high):
                raise field_error(where, f"[{low}, {high}] must be finite float32 values")
            if not _distinct("float32", low, high):
                raise field_error(where, f"[{low}, {high}]: float32 holds one value of this range")
            return low, high
        if low != int(low) or high != int(high):
            raise field_error(where, f"[{low}, {high}] must be whole numbers for an {kind} argument")
        first, last = _INTEGER_RANGES[kind]
        if not (first <= low and high < last):
            raise field_error(where, f"[{int(low)}, {int(high)}] does not fit {kind}")
        return low, high

    def _launch(self, index: int, launch: LaunchDefinition) -> _Launch:
        where = f"launches[{index}]"
        if not _IDENTIFIER.match(launch.kernel):
            raise field_error(f"{where}.kernel", f"{launch.kernel!r} is not a kernel name")
        names = (*self.dims, *self.tunables)
        global_size = tuple(parse_expression(text, f"{FIELD}.{where}.global", names) for text in launch.global_size)
        local = None
        if launch.local is not None:
            if len(launch.local) != len(launch.global_size):
                raise field_error(f"{where}.local", "must have as many entries as global")
            local = tuple(parse_expression(text, f"{FIELD}.{where}.local", names) for text in launch.local)
        args = tuple(launch.args) if launch.args is not None else tuple(self._order)
        for name in args:
            if name not in self._buffers and name not in self._scalars:
                raise field_error(
                    f"{where}.args", f"names unknown argument {name!r} (declared: {', '.join(self._order)})"
                )
        return _Launch(launch.kernel, global_size, local, args)

    def _file(self, name: str, where: str) -> str:
        text = self.definition.files.get(name)
        if text is None:
            raise field_error(where, f"{name} was not provided (a task file reads it from beside the file)")
        if not text.strip():
            raise field_error(where, f"{name} is empty")
        return text

    def _reference(self, definition: KernelDefinition) -> tuple[Literal["python", "opencl"], str]:
        suffix = Path(definition.reference).suffix
        if suffix not in (".py", ".cl"):
            raise field_error("reference", f"{definition.reference!r} must be a NumPy .py file or an OpenCL C .cl file")
        if not _IDENTIFIER.match(definition.function):
            raise field_error("function", f"{definition.function!r} is not a function name")
        return ("python" if suffix == ".py" else "opencl"), self._file(definition.reference, "reference")

    # -- the task ----------------------------------------------------------------------------------

    def _values(self, size: Size) -> dict[str, int]:
        return dict(zip(self.dims, size.dims, strict=True))

    def _count(self, buffer: _Buffer, values: Mapping[str, int]) -> tuple[int, ...]:
        shape = tuple(expression.integer(values) for expression in buffer.shape)
        if any(n < 1 for n in shape):
            raise TaskError(f"{buffer.shape[0].where}: buffer {buffer.name} has shape {shape} at {values}")
        return shape

    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        values = self._values(size)
        buffers = tuple(
            BufferSpec(b.name, b.dtype, math.prod(self._count(b, values)), b.role) for b in self._buffers.values()
        )
        launches = []
        for index, launch in enumerate(self._launches):
            bound: dict[str, int | float] = {**values, **params}
            items = tuple(expression.integer(bound) for expression in launch.global_size)
            local = tuple(expression.integer(bound) for expression in launch.local) if launch.local else None
            if any(item < 1 for item in items) or any(extent < 0 for extent in local or ()):
                # Checked at the declared sizes and range ends when the task is read; an expression with `%` or
                # `//` can still reach 0 in between, and the candidate (the task's own seed too) was blamed.
                raise TaskError(
                    f"params.definition.launches[{index}].global: the launch of {launch.kernel} evaluates to "
                    f"global {list(items)}" + (f", local {list(local)}" if local else "") + f" at {size.describe()}: "
                    "every global extent must be at least 1 at every size the task allows (a fault of the task "
                    "file, not of the candidate)"
                )
            global_size, local_size = grid(items, local)
            launches.append(
                Launch(
                    launch.kernel, global_size, local_size, tuple(self._argument(a, values, size) for a in launch.args)
                )
            )
        outputs = tuple(b.name for b in self._buffers.values() if b.role in ("out", "inout"))
        return HostProgram(buffers=buffers, launches=tuple(launches), outputs=outputs)

    def _argument(self, name: str, values: Mapping[str, int], size: Size) -> Arg:
        """Argument `name` at `size`: a buffer, or a scalar's drawn value (else its `value` expression)."""
        if name in self._buffers:
            return Arg("buf", name)
        scalar = self._scalars[name]
        drawn = size.scalar(name)
        if drawn is not None:  # drawn within the declared range, which fits the type
            return Arg(scalar.kind, float(np.float32(drawn)) if scalar.kind == "f32" else int(drawn))
        if scalar.kind == "f32":
            return Arg("f32", float(np.float32(scalar.value(values))))
        value = scalar.value.integer(values)
        return Arg(scalar.kind, value & 0xFFFFFFFF if scalar.kind == "u32" else value)

    def _check_scalar(self, name: str, size: Size) -> None:
        """A scalar's value must fit its type: before, an i32 of 4e9 failed in the worker's conversion
        at every launch, and an f32 of 1e39 silently became infinity. (A drawn range was checked when read.)"""
        values = self._values(size)
        scalar = self._scalars[name]
        if scalar.kind == "f32":
            number = float(scalar.value(values))
            if abs(number) > float(np.finfo(np.float32).max):
                raise TaskError(f"{scalar.value.where}: {number:g} at {dict(values)} is beyond float32's range")
            return
        value = scalar.value.integer(values)
        # A u32 was once wrapped modulo 2**32 without a word: `n - 5000` at n = 4096 reached the kernel as 4294966392.
        low, high = _INTEGER_RANGES[scalar.kind]
        if not low <= value < high:
            article = "an" if scalar.kind == "i32" else "a"
            raise TaskError(f"{scalar.value.where}: {value} at {dict(values)} does not fit {article} {scalar.kind}")

    def inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        values = self._values(size)
        drawn = {}
        for buffer in self._buffers.values():
            if buffer.role not in ("in", "inout"):
                continue
            count = math.prod(self._count(buffer, values))
            init = buffer.init
            data: np.ndarray
            if init.integers is not None:
                data = rng.integers(init.integers[0], init.integers[1], count, endpoint=True)
            elif init.normal is not None:
                data = rng.normal(init.normal[0], init.normal[1], count)
            else:
                low, high = init.uniform or (0.0, 1.0)
                data = rng.uniform(low, high, count)
            drawn[buffer.name] = data.astype(buffer.dtype)
        return drawn

    def work(self, size: Size) -> Work:
        values = self._values(size)
        return Work(bytes=float(self._work[0](values)), flops=float(self._work[1](values)))

    def check(
        self, size: Size, name: str, got: np.ndarray, expected: np.ndarray, inputs: dict[str, np.ndarray]
    ) -> Check:
        tolerance = self.definition.tolerance
        if tolerance == "exact":
            return exact_check(got, expected)
        return tolerance_check(got, expected, tolerance.rtol, tolerance.atol * size.input_scale)

    def draw_heldout(self, rng: np.random.Generator) -> tuple[Size, ...]:
        """Fresh held-out sizes within the declared ranges: primes where a range holds one."""
        drawn = []
        for label, ranges in self._ranges.items():

            def draw(ranges: tuple[tuple[int, int], ...] = ranges) -> tuple[int, ...]:
                return tuple(prime_in(low, high, rng) for low, high in ranges)

            drawn.append(Size(label, distinct(draw)))
        return tuple(drawn)

    def draw_residues(self, rng: np.random.Generator) -> tuple[Size, ...]:
        """The correctness-only sizes of `KernelTask.draw_residues`: every kind within every declared range
        (a kind a range's dimensions cannot hold is left out there).

        Drawn within the smallest range alone, a kernel wrong only at large sizes of some kind passed. Beside
        them, as for the suite: a plain random size around a centre between every two declared sizes or ranges
        more than 2x apart (a conv1d kernel writing zeros for every n between the declared ones passed both
        gates at 2.55x its seed), and the joint residues of every two dimensions."""
        found = []
        for label, ranges in self._ranges.items():
            for kind, pick in RESIDUE_PICKERS:
                try:
                    dims = tuple(pick(low, high, rng) for low, high in ranges)
                except NoDimensionError:
                    continue
                found.append(Size(f"{label}-{kind}", dims, correctness_only=True))
        gaps = self._gap_centres(rng)
        found += self._sizes_around([(centre, GAP_PICKERS) for centre in gaps], rng)
        found += self._joint_residue_sizes([*self.heldout, *gaps], rng)
        return self.at_other_scales(found, rng)

    # -- the reference, in its own sandboxed worker ------------------------------------------------

    @contextmanager
    def _sandboxed(self, workdir: Path, sandbox_factory: SandboxFactory, backend: str) -> Iterator[None]:
        runner = Worker(sandbox_factory, workdir, backend)
        self._runner = runner
        self._repeatable = False  # once per session: state a reference keeps lives in its worker
        try:
            yield
        finally:
            self._runner = None
            runner.kill()

    def reference_sandbox(
        self, workdir: Path, sandbox_factory: SandboxFactory, backend: str
    ) -> AbstractContextManager[None]:
        """A sandboxed worker of the reference's own, started at the first reference and killed at the end."""
        return self._sandboxed(workdir, sandbox_factory, backend)

    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._runner is None:
            raise TaskError(f"{self.name}: the reference of a task file runs only in a sandbox (open a harness)")
        values = self._values(size)
        defaults = self.defaults()
        program = self.host(size, defaults)
        specs = [
            {"name": b.name, "dtype": b.dtype, "role": b.role, "shape": list(shape), "count": math.prod(shape)}
            for b in self._buffers.values()
            for shape in (self._count(b, values),)
        ]
        request: dict[str, Any] = {
            "op": "reference",
            "kind": self.reference_kind,
            "filename": Path(self.definition.reference).name,
            "source": self.reference_source,
            "function": self.definition.function,
            "exact": self.exact,
            "sizes": values,
            "scalars": {name: self._argument(name, values, size).value for name in self._scalars},
            "buffers": specs,
            "outputs": [spec for spec in specs if spec["role"] in ("out", "inout")],
            "defines": defaults,
            "launches": [launch.as_json() for launch in program.launches],
        }
        where = f"the reference {self.definition.reference} at size {size.label} ({size.describe()})"
        outputs = self._answer(request, inputs, program, where)
        if not self._repeatable:
            self._check_repeatable(size, inputs, outputs, self._answer(request, inputs, program, where), where)
        return outputs

    def _answer(
        self, request: dict[str, Any], inputs: dict[str, np.ndarray], program: HostProgram, where: str
    ) -> dict[str, np.ndarray]:
        assert self._runner is not None
        try:
            reply, arrays = self._runner.request(request, inputs, REFERENCE_TIMEOUT)
        except WorkerTimeoutError:
            raise TaskError(f"{where} did not answer within {REFERENCE_TIMEOUT:g} s") from None
        except WorkerCrashedError as error:
            raise TaskError(f"{where} crashed its worker: {error}") from None
        if not reply.get("ok"):
            raise TaskError(f"{where} failed: {reply.get('error')}")
        counts = {spec.name: spec.count for spec in program.buffers}
        for name in program.outputs:
            if name not in arrays or arrays[name].size != counts[name]:
                raise TaskError(f"{where} returned no usable output {name!r}")
            output = arrays[name]
            if output.size and np.issubdtype(output.dtype, np.floating) and not np.isfinite(output).any():
                # NaN matches NaN: against such an answer a kernel writing NaN was correct and the seed was not.
                raise TaskError(f"{where} returned no finite value in {name!r}: fix the task file's reference")
        return {name: arrays[name] for name in program.outputs}

    def _check_repeatable(
        self,
        size: Size,
        inputs: dict[str, np.ndarray],
        first: dict[str, np.ndarray],
        second: dict[str, np.ndarray],
        where: str,
    ) -> None:
        """The reference's first answer of a session, asked for again, must be the same within the task's tolerance.

        Every candidate, the task's own seed included, is judged against it: a reference that draws random
        numbers, reads the clock or keeps state between calls made the seed fail its correctness gate, and
        the task file went unblamed."""
        for name, answer in first.items():
            check = self.check(size, name, second[name], answer, inputs)
            if not check.ok:
                raise TaskError(
                    f"{where} answered differently when asked again with the same inputs ({name!r}: "
                    f"{check.detail or f'differs by {check.error:g}'}): every candidate is judged against it, so it "
                    "must be deterministic (fix the task file's reference: no unseeded random numbers, clock or "
                    "state kept between calls)"
                )
        self._repeatable = True


NORMAL_REACH = 40.0
"""Standard deviations within which every normal draw lies (beyond 40 the probability is below 1e-300)."""


def _representable(dtype: str, *values: float) -> bool:
    """Whether every value is finite in `dtype`: a draw beyond its range would be stored as infinity.

    Before, `uniform: [-1e308, 1e308]` failed with an OverflowError on the first draw, and
    `normal: [0, 1e300]` of a float32 buffer silently filled it with infinities.
    """
    largest = float(np.finfo(dtype).max)
    return all(math.isfinite(value) and abs(value) <= largest for value in values)


def _distinct(dtype: str, low: float, high: float) -> bool:
    """Whether `dtype` holds two different values between `low` and `high`: else every draw is the same.

    `uniform: [1.0, 1.00000001]` of a float32 buffer filled it with 1.0: no run could get inputs of its
    own (the host looked for a changed element forever), and a kernel could assume the constant.
    """
    kind = np.dtype(dtype).type
    return bool(kind(low) < kind(high))


_INTEGER_RANGES = {"i32": (-(2**31), 2**31), "u32": (0, 2**32)}
"""The values each integer scalar type holds, [low, high)."""


def _drawable(low: int, high: int, limit: int) -> list[int] | None:
    """The values `prime_in` draws from [low, high] (its primes, or every value when it holds none),
    or None when there are more than `limit` of them.

    Ends within (limit + 1) prime gaps (under 300 each below 2**31) even for the widest range.
    """
    primes: list[int] = []
    for value in range(low, high + 1):
        if is_prime(value):
            primes.append(value)
            if len(primes) > limit:
                return None
    if primes:
        return primes
    return list(range(low, high + 1)) if high - low < limit else None


def tolerance_check(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> Check:
    """Element-wise |got - want| <= atol + rtol * |want| (NaN or infinity where the reference is finite fails).

    Where the reference itself is NaN or infinite, the output must be that same value: a reference
    that overflows at some inputs does not leave those elements unchecked.
    """
    if rtol == 0 and atol == 0:
        return exact_check(got, expected)
    got64 = got.astype(np.float64, copy=False)
    ref64 = expected.astype(np.float64, copy=False)
    if ref64.size == 0:
        return allclose_check(got64, ref64, 0.0)
    finite = np.isfinite(ref64)
    with np.errstate(invalid="ignore"):
        limit = np.where(finite, atol + rtol * np.abs(ref64), 0.0)
    scale = atol + rtol * float(np.max(np.abs(ref64[finite]))) if finite.any() else atol
    return replace(bounded_check(got64, ref64, limit), tolerance=scale)


def user_kernel_task(name: str, definition: Mapping[str, Any]) -> UserKernelTask:
    """The task `definition` declares, named `name`; TaskError naming the first bad field."""
    if not _KERNEL_NAME.match(name):
        raise TaskError(f"params.kernel: {name!r} must be a short lowercase name (letters, digits, _ . -)")
    try:
        parsed = KernelDefinition.model_validate(definition)
    except ValidationError as error:
        problems = describe_validation_error(error).split("; ")
        raise TaskError("; ".join(f"{FIELD}.{problem}" for problem in problems)) from None
    return UserKernelTask(name, parsed)
