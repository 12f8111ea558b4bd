"""What one kernel task is: the trusted definition a candidate is measured against.

A task fixes the host side completely (buffers, grid, work-group, launch order): candidates write
device code only, and may choose values for the task's declared tunables (work-group size, vector
width, unrolling...) on a `//@params NAME=value ...` line. The harness passes the chosen values to
the compiler as `-DNAME=value` and to the task's grid computation, so kernel and host always agree.
References, sizes and inputs never leave the trusted process (a task file's reference is code, so it
runs in a sandboxed worker of its own instead, see `_user_task`).
"""

from __future__ import annotations

import itertools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from runs import LabgateError
from tools._workload import SandboxFactory
from tools.kernels._backend import INLINE_ASSEMBLY
from tools.kernels._heldout import LOW as HELD_OUT_LOW
from tools.kernels._heldout import (
    MAX_COVERED_DIMENSIONS,
    RESIDUE_PICKERS,
    NoDimensionError,
    Picker,
    any_in,
    around,
    distinct,
    per_dimension,
    prime_in,
    residue_rows,
    with_residue,
)

GAP_PICKERS: tuple[tuple[str, Picker], ...] = (("any", any_in),)
"""What is drawn around a centre between two checked sizes (`KernelTask._gap_centres`): a plain random size."""
Regime = Literal["memory", "compute"]
ArgKind = Literal["buf", "i32", "u32", "f32"]
BufferRole = Literal["in", "out", "inout", "scratch"]

_PARAMS_LINE = re.compile(r"^[ \t]*//@params\b(.*)$", re.MULTILINE)
_DIRECTIVE = r"(?:#|%:|\?\?=)(?:\s|/\*\n?\*/)*"
"""The start of a preprocessor directive: `#`, its digraph or trigraph, then spaces or comments, each comment
first made `/**/` (or `/*` newline `*/` where it ran past its line) by `_blank_comments`. Matched as any comment
text, a run of comments could be split in exponentially many ways: one model reply of `#` and forty `/**/` held
a kernel search, and its cancel, for good."""
_INCLUDE = re.compile(_DIRECTIVE + r"(include|include_next|import|embed)\b")
"""A directive that reads another file."""
_CODE_PIECES = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|/\*.*?(?:\*/|\Z)|//[^\n]*", re.DOTALL)
"""String and character literals (kept) and comments (blanked), in one pass from the left as the compiler reads
them: a `/*` inside a string starts no comment, and a comment left open runs to the end of the source."""
_HAS_INCLUDE = re.compile(r"(?<![A-Za-z0-9_])(__has_include(?:_next)?|__has_embed)(?![A-Za-z0-9_])")
"""Asking whether a host file exists reads the host too, though no contents come back."""
_PRAGMA = re.compile(_DIRECTIVE + r"pragma\b([^\n]*)")
"""A `#pragma` directive (or its digraph or trigraph spelling) and the rest of its line."""
_PRAGMA_OPERATOR = re.compile(r"(?<![A-Za-z0-9_])(_Pragma|__pragma)(?![A-Za-z0-9_])")
"""The pragma operator: its argument can be built by a macro, out of sight of any text check."""
_PASTE = re.compile(r"##|%:%:|\?\?=\?\?=")
"""Token pasting (or its digraph or trigraph spelling), which can build an identifier no text check sees."""
_OPERATOR_STARTS = frozenset(name[:length] for name in ("_Pragma", "__pragma") for length in range(1, len(name)))
"""The identifiers a pasted pragma operator must start from: a pasted identifier is its pieces joined, the
first of them written in the source (`CAT(_Pra, gma)`)."""
ALLOWED_PRAGMAS = (
    ("OPENCL",),
    ("STDC",),
    ("unroll",),
    ("nounroll",),
    ("clang", "loop"),
    ("clang", "unroll"),
    ("clang", "fp"),
)
"""The pragmas a kernel may use: extensions, unrolling, loop and floating-point hints. Others reach the
host or the compiler itself (`GCC dependency "path"` asks whether a file exists, `clang __debug` crashes
the compiler), so any pragma not on this list is refused."""
_SPLICE = re.compile(r"(?:\\|\?\?/)[ \t\f\v]*(?:\r\n|\n|\r)")
"""A line splice as clang reads one: a backslash (or its trigraph `??/`), blanks it only warns about, a line end."""
_ASSEMBLY = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(INLINE_ASSEMBLY) + r")(?![A-Za-z0-9_])")
"""Inline assembly's keywords as whole identifiers, anywhere: in comments too, since a string literal
holding `/*` could hide code from a comment stripper."""
MAX_SOURCE_BYTES = 1 << 20
"""The largest kernel source a task accepts; the suite's longest kernels are a few KiB."""
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(-?\d{1,18})$")
"""A `//@params` entry: a tunable and an integer of at most 18 digits (one of 4,300 ended the search that drew
it, read by `int` past Python's limit, as a ValueError instead of an invalid candidate)."""


def _blank_comments(code: str) -> str:
    """`code` with every block comment emptied (`/**/`, or `/*` newline `*/` where it ran past its line) and every
    line comment removed; literals untouched."""

    def blank(match: re.Match[str]) -> str:
        piece = match.group()
        if piece[0] in "\"'":
            return piece
        if piece.startswith("//"):
            return ""
        return "/*\n*/" if "\n" in piece else "/**/"

    return _CODE_PIECES.sub(blank, code)


def _pragma_problem(source: str) -> str:
    """Why the source's pragmas are refused ("" when every one is on `ALLOWED_PRAGMAS`)."""
    operator = _PRAGMA_OPERATOR.search(source)
    if operator is not None:
        return f"kernel source uses {operator.group(1)}: write the pragma as a #pragma line (one of {_pragma_list()})"
    if _PASTE.search(source):
        starts = sorted(set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source)) & _OPERATOR_STARTS)
        if starts:
            return (
                f"kernel source pastes tokens (##) and holds the identifier {starts[0]!r}, from which a pasted "
                f"_Pragma would start: rename it (pragmas are written as #pragma lines: {_pragma_list()})"
            )
    for match in _PRAGMA.finditer(source):
        rest = re.sub(r"/\*.*?\*/", " ", match.group(1)).split("//")[0]
        words = tuple(re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\S", rest))
        if "/*" in rest or not any(words[: len(allowed)] == allowed for allowed in ALLOWED_PRAGMAS):
            shown = " ".join(word for word in words[:3] if word[0].isalpha() or word[0] == "_") or "(empty)"
            return f"kernel source uses #pragma {shown}: only these pragmas are allowed: {_pragma_list()}"
    return ""


def _pragma_list() -> str:
    return ", ".join(" ".join(words) for words in ALLOWED_PRAGMAS)


class CandidateError(LabgateError, ValueError):
    """A candidate's declared parameters are not allowed by its task (named in the message)."""


@dataclass(frozen=True)
class Size:
    """One problem size: a label for reports, the task's own dimensions, and the scalars drawn for it.

    `scalars` holds the values a run drew for the task's `scalar_ranges` (empty: every scalar at its
    default). They travel with the size because the host program and the reference both read them
    from here: the candidate and the reference cannot be handed different values.
    """

    label: str
    dims: tuple[int, ...]
    scalars: tuple[tuple[str, float], ...] = ()
    correctness_only: bool = False
    """A size judged for correctness alone (`draw_residues`): its runs are not timed against a yardstick."""
    input_scale: float = 1.0
    """What the task's scale-free inputs are multiplied by at this size (`KernelTask.draw_inputs`)."""
    distribution: str = ""
    """Which of the task's `other_distributions` drew this size's inputs ("": the search's own distribution)."""
    pinned: tuple[str, ...] = ()
    """The scalars given a pinned value at this size (`ScalarRange.pinned`: an end, the default, 0), not a draw:
    checked like any size, but a speed decision does not count its time, since a kernel may know those values
    in advance and special-case them (`if (a == 0) return;` made saxpy's one timed size 15-30x the seed's)."""

    def describe(self) -> str:
        text = "x".join(str(d) for d in self.dims)
        if self.input_scale != 1.0:
            text += f", inputs x{self.input_scale:.0e}"
        return f"{text}, {self.distribution} inputs" if self.distribution else text

    def scalar(self, name: str) -> float | None:
        """The value drawn for scalar `name` at this size, or None where it was not drawn."""
        return dict(self.scalars).get(name)


@dataclass(frozen=True)
class ScalarRange:
    """The values one scalar argument of a task's contract may take, and its default.

    A scalar that never varied was a constant a kernel could hard-code (`y[i] = 1.75f * x[i] + y[i]`
    ignoring `a` passed every gate), so every run draws each scalar afresh (`KernelTask.draw_scalars`)
    from `choices` when given, else from [low, high] (whole numbers when `integer`). The range is the
    physically sensible one in which the reference and the tolerance stay valid (stability limits of
    an explicit scheme, a sampler's convergence within its transitions); `why` says which limit it keeps.
    """

    low: float
    high: float
    default: float | None = None
    integer: bool = False
    choices: tuple[float, ...] = ()
    why: str = ""

    def pinned(self) -> tuple[float, ...]:
        """The values every run checks beside its draws: every choice, else both ends of the range, the default
        and 0 inside a signed range. Approximations break at the edges (next to a stability limit), where
        uniform draws alone land rarely: a kernel wrong only for r > 0.235 of heat2d's [0.05, 0.25] passed
        about one judging run in four."""
        if self.choices:
            return tuple(dict.fromkeys(float(choice) for choice in self.choices))
        values = [self.low, self.high, *([self.default] if self.default is not None else [])]
        if self.low < 0 < self.high:
            values.append(0.0)
        return tuple(dict.fromkeys(float(int(v)) if self.integer else self._float32_inside(v) for v in values))

    def _float32_inside(self, value: float) -> float:
        """`value` as the kernel receives it (float32), stepped back inside [low, high] where rounding left it."""
        single = np.float32(value)
        if float(single) > self.high:
            single = np.nextafter(single, np.float32(-np.inf))
        elif float(single) < self.low:
            single = np.nextafter(single, np.float32(np.inf))
        return float(single)

    def draw(self, rng: np.random.Generator) -> float:
        """One value: a choice, a whole number of [low, high], or a float32 value of [low, high]."""
        if self.choices:
            return float(self.choices[int(rng.integers(len(self.choices)))])
        if self.integer:
            return float(int(rng.integers(int(self.low), int(self.high) + 1)))
        # float32, as the kernel receives it: the reference then computes with exactly the candidate's value.
        return float(np.float32(rng.uniform(self.low, self.high)))


@dataclass(frozen=True)
class BufferSpec:
    name: str
    dtype: str
    count: int
    role: BufferRole

    @property
    def nbytes(self) -> int:
        return self.count * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class Arg:
    kind: ArgKind
    value: str | int | float

    def as_json(self) -> dict[str, str | int | float]:
        return {self.kind: self.value}


def buf(name: str) -> Arg:
    return Arg("buf", name)


def i32(value: int) -> Arg:
    return Arg("i32", int(value))


def u32(value: int) -> Arg:
    return Arg("u32", int(value) & 0xFFFFFFFF)


def f32(value: float) -> Arg:
    return Arg("f32", float(value))


@dataclass(frozen=True)
class Launch:
    kernel: str
    global_size: tuple[int, ...]
    local_size: tuple[int, ...] | None
    args: tuple[Arg, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "kernel": self.kernel,
            "global": list(self.global_size),
            "local": list(self.local_size) if self.local_size else None,
            "args": [arg.as_json() for arg in self.args],
        }


@dataclass(frozen=True)
class HostProgram:
    """Everything the host does for one size: buffers, launches in order, outputs to check."""

    buffers: tuple[BufferSpec, ...]
    launches: tuple[Launch, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class Work:
    """The roofline model of one execution of the host program: compulsory bytes and useful FLOPs."""

    bytes: float
    flops: float


@dataclass(frozen=True)
class Check:
    ok: bool
    error: float
    tolerance: float
    detail: str = ""


@dataclass(frozen=True)
class Candidate:
    """A kernel source and the tunable values it declared (defaults filled in)."""

    source: str
    params: dict[str, int] = field(default_factory=dict)


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def grid(items: tuple[int, ...], local: tuple[int, ...] | None) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    """Global size covering `items` per dimension, rounded up to the work-group when one is fixed."""
    if local is None or 0 in local:
        return tuple(max(1, n) for n in items), None
    return tuple(round_up(max(1, n), m) for n, m in zip(items, local, strict=True)), local


class KernelTask(ABC):
    """One scientific kernel: reference, seed, host program, sizes, tolerance and roofline model."""

    name: ClassVar[str]
    title: ClassVar[str]
    regime: ClassVar[Regime]
    contract: ClassVar[str]
    """What a candidate must implement: kernel names, signatures, semantics (shown to proposers)."""
    seed: ClassVar[str]
    tunables: ClassVar[dict[str, tuple[int, ...]]]
    """Allowed values per tunable; the first is the default."""
    sizes: ClassVar[tuple[Size, ...]]
    heldout: ClassVar[tuple[Size, ...]]
    residue_checks: ClassVar[bool] = True
    """False where the shape rule leaves no arithmetic freedom (an FFT's powers of two): no `draw_residues`."""
    exact: ClassVar[bool] = False
    reference_from_user: ClassVar[bool] = False
    """True where a task file brings the reference: its answers are checked for sense before any candidate is
    judged against them (`_judge.fresh_answers`, `UserKernelTask.reference`)."""
    concurrent_references: ClassVar[bool] = False
    """True where `reference` is a pure function of its arguments that may run in several threads at once (NumPy
    releases the interpreter in its array loops): the checked runs' references are then computed side by side,
    on the cores the worker leaves idle between requests (`_judge.fresh_answers`). Off by default, since a
    plugin's reference may hold state or a device queue."""
    whole_variants: ClassVar[bool] = False
    """True when input buffers must stay consistent with each other: each run then gets a whole new draw."""
    scalar_ranges: ClassVar[dict[str, ScalarRange]] = {}
    """The scalar arguments the contract lets vary, by name: each run draws them (`draw_scalars`)."""
    fixed_scalars: ClassVar[str] = ""
    """Which scalar arguments stay fixed and why (a launch's structure, a compile-time constant of the contract)."""
    scale_free_inputs: ClassVar[tuple[str, ...]] = ()
    """Input buffers the outputs are linear in, together: multiplied by any power of ten, the outputs follow
    and the tolerance (relative to the output's largest value) stays as valid. The held-out gate draws some
    correctness-only sizes with these inputs decades above and below their usual magnitude
    (`draw_residues`): a kernel wrong only for large or small values passed every gate while inputs came
    from one distribution. Tasks whose inputs carry structure (a lattice, positions within a cutoff,
    distributions near equilibrium, integers) declare none."""

    other_distributions: ClassVar[dict[str, str]] = {}
    """Other input distributions within the contract, by name, each with the part of the contract the
    search's draws never reach: `inputs` draws from the one a size names (`Size.distribution`). The
    held-out gate checks every one at correctness-only sizes (`at_other_distributions`). With one
    distribution only, an nbody kernel that clamped masses above any drawn one, and a reduction that
    started its maximum at 0 where every drawn field had a positive maximum, passed every gate."""
    largest: ClassVar[tuple[int | None, ...] | None] = None
    """The largest dimensions the contract allows, None where it sets no bound (hmc's d <= 32): sizes drawn
    above the search's stay within them, and one checked size sits on each bound exactly (`edge_sizes`)."""
    smallest: ClassVar[tuple[int, ...] | None] = None
    """The smallest dimensions the contract allows, where it allows sizes below the search's: the held-out gate
    then also checks sizes drawn between these and the smallest checked one (a saxpy kernel that dropped
    `+ y` below n = 16384 passed while no checked size was under 32768)."""

    @abstractmethod
    def host(self, size: Size, params: dict[str, int]) -> HostProgram:
        """The fixed host side for one size and the candidate's tunable values."""

    @abstractmethod
    def inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Fresh initial contents of every `in`/`inout` buffer, flat, by buffer name."""

    def draw_inputs(self, size: Size, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """`inputs`, with the scale-free ones multiplied by the size's `input_scale` (in their own dtype)."""
        drawn = self.inputs(size, rng)
        if size.input_scale == 1.0:
            return drawn
        for name in self.scale_free_inputs:
            values = drawn[name]
            drawn[name] = (values * values.dtype.type(size.input_scale)).astype(values.dtype, copy=False)
        return drawn

    @abstractmethod
    def reference(self, size: Size, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """What the outputs must be after one execution of the host program."""

    @abstractmethod
    def work(self, size: Size) -> Work:
        """Compulsory traffic and useful FLOPs of one execution, for the roofline."""

    def check(
        self, size: Size, name: str, got: np.ndarray, expected: np.ndarray, inputs: dict[str, np.ndarray]
    ) -> Check:
        """Default: every element within `tolerance` of the reference, relative to its largest value."""
        return allclose_check(got, expected, self.tolerance(size))

    def tolerance(self, size: Size) -> float:
        return 1e-5

    def check_output(
        self,
        size: Size,
        name: str,
        got: np.ndarray,
        expected: Mapping[str, np.ndarray],
        inputs: dict[str, np.ndarray],
    ) -> Check:
        """Output `name` against the reference's outputs `expected`: where the reference also gave each
        element's allowed error (`name + ALLOWED_ERROR`), against that; else through `check`."""
        want = expected[name].reshape(-1)
        allowed = expected.get(name + ALLOWED_ERROR)
        if allowed is None:
            return self.check(size, name, got, want, inputs)
        return bounded_check(got, want, allowed.reshape(-1))

    def reference_sandbox(
        self, workdir: Path, sandbox_factory: SandboxFactory, backend: str
    ) -> AbstractContextManager[None]:
        """Where `reference` runs while a harness is open: nowhere special for the suite's trusted references.

        A task whose reference is code from a task file computes it in a sandboxed worker of its own
        (in `workdir`, made by `sandbox_factory`) for as long as the returned context is open.
        """
        return nullcontext()

    def scalar(self, size: Size, name: str) -> float:
        """Scalar `name` at `size`: the value drawn for it, else its declared default."""
        drawn = size.scalar(name)
        if drawn is not None:
            return drawn
        default = self.scalar_ranges[name].default
        if default is None:
            raise KeyError(f"{self.name}: scalar {name!r} has no default and none was drawn at {size.label}")
        return default

    def draw_scalars(self, sizes: Iterable[Size], rng: np.random.Generator) -> tuple[Size, ...]:
        """`sizes`, each with its own draw of every scalar in `scalar_ranges` (unchanged where there are none).

        Each size draws on its own, so one run checks several values of every scalar; some of each scalar's
        pinned values (`ScalarRange.pinned`: its range's ends, its default), chosen from `rng`, replace the
        draws at sizes chosen from `rng`, so a run checks them too, at sizes a kernel cannot predict. At most
        half the sizes take a pinned value: the others keep values no kernel can know in advance.
        """
        sizes = tuple(sizes)
        if not self.scalar_ranges:
            return sizes
        drawn = [{name: spec.draw(rng) for name, spec in self.scalar_ranges.items()} for _ in sizes]
        pinned_at: list[list[str]] = [[] for _ in sizes]
        for name, spec in self.scalar_ranges.items():
            pinned = spec.pinned()
            count = min(len(pinned), len(sizes) // 2)
            chosen = [pinned[int(index)] for index in rng.permutation(len(pinned))[:count]]
            for position, value in zip(rng.permutation(len(sizes))[:count], chosen, strict=True):
                drawn[int(position)][name] = value
                if not spec.choices:  # every value of a list of choices is one a kernel could know
                    pinned_at[int(position)].append(name)
        return tuple(
            replace(size, scalars=tuple(values.items()), pinned=tuple(names))
            for size, values, names in zip(sizes, drawn, pinned_at, strict=True)
        )

    # -- candidates -------------------------------------------------------------------------------

    def defaults(self) -> dict[str, int]:
        return {name: values[0] for name, values in self.tunables.items()}

    def parse(self, source: str) -> Candidate:
        """Read the `//@params` line (at most one); unknown names or disallowed values are errors.

        The source must be one self-contained file: a directive that reads another (`#include` of a
        host file, spelled with comments, line splices, digraphs or trigraphs in between) is refused
        before anything compiles it, since the compiler's log would hand that file's contents back
        as feedback; so is a source over MAX_SOURCE_BYTES. Line ends are made newlines first, and the candidate
        compiled is that text: the compiler ends a `//` comment at a lone carriage return too, and the checks
        read `// note\r#include "/etc/passwd"` as one comment while the compiler read the file in.
        """
        source = source.replace("\r\n", "\n").replace("\r", "\n")
        size = len(source.encode())
        if size > MAX_SOURCE_BYTES:
            raise CandidateError(f"kernel source is {size} bytes; at most {MAX_SOURCE_BYTES} are accepted")
        if "\0" in source:
            raise CandidateError("kernel source holds a NUL byte: the compiler would read only the text before it")
        joined = _SPLICE.sub("", source)
        has_include = _HAS_INCLUDE.search(joined)
        if has_include is not None:
            raise CandidateError(f"kernel source uses {has_include.group(1)}: a kernel may not ask about host files")
        code = _blank_comments(joined)
        pragma_problem = _pragma_problem(code)
        if pragma_problem:
            raise CandidateError(pragma_problem)
        included = _INCLUDE.search(code)
        if included is not None:
            raise CandidateError(
                f"kernel source uses #{included.group(1)}: a kernel is one self-contained source "
                "and may not read other files"
            )
        assembly = _ASSEMBLY.search(joined)
        if assembly is not None:
            raise CandidateError(
                f"kernel source uses {assembly.group(1)}: inline assembly is not allowed "
                "(on a CPU device it runs as native code inside the worker)"
            )
        lines = _PARAMS_LINE.findall(source)
        if len(lines) > 1:
            raise CandidateError("more than one //@params line")
        params = self.defaults()
        if lines:
            for token in lines[0].split():
                match = _ASSIGNMENT.match(token)
                if match is None:
                    shown = token if len(token) <= 60 else f"{token[:40]}... ({len(token)} characters)"
                    raise CandidateError(f"//@params entry {shown!r} must look like NAME=integer (at most 18 digits)")
                name, value = match.group(1), int(match.group(2))
                if name not in self.tunables:
                    known = ", ".join(self.tunables) or "none"
                    raise CandidateError(f"//@params names unknown tunable {name!r} (this task has: {known})")
                if value not in self.tunables[name]:
                    allowed = ", ".join(str(v) for v in self.tunables[name])
                    raise CandidateError(f"//@params {name}={value} is not allowed (choose one of {allowed})")
                params[name] = value
        return Candidate(source=source, params=params)

    def sizes_named(self, which: Literal["train", "heldout"]) -> tuple[Size, ...]:
        """The declared sizes; held-out ones are centres, see `draw_heldout` for what is judged."""
        return self.sizes if which == "train" else self.heldout

    def draw_heldout(self, rng: np.random.Generator) -> tuple[Size, ...]:
        """Fresh held-out sizes around the declared ones (labels kept), drawn from `rng`."""
        drawn = []
        for centre in self.heldout:

            def draw(centre: Size = centre) -> tuple[int, ...]:
                return self.heldout_dims(centre, rng)

            drawn.append(Size(centre.label, distinct(draw)))
        return tuple(drawn)

    def heldout_dims(self, centre: Size, rng: np.random.Generator, pick: Picker = prime_in) -> tuple[int, ...]:
        """One draw of dimensions around `centre`, each of `pick`'s kind (a prime by default).

        Tasks with shape rules override this and apply `pick` to what is free within their rule.
        """
        return tuple(pick(*around(d), rng) for d in centre.dims)

    def draw_residues(self, rng: np.random.Generator) -> tuple[Size, ...]:
        """More held-out sizes, checked for correctness only: every kind `RESIDUE_PICKERS` names around every centre.

        The search's sizes are multiples of large powers of two and the drawn held-out sizes odd
        primes. A kernel wrong at every size of the form 4k + 2 passed both gates; one wrong wherever
        the odd part has a factor 3, 5 or 7 passed them too, since every checked size's odd part was 1
        or prime. These sizes (powers of two times primes, composite odd parts, plain random integers)
        leave no arithmetic property shared by every checked size. They are drawn around every
        held-out centre: drawn near the smallest one only, a kernel wrong only above it (n > 140000
        with a factor 3, 5 or 7 in the odd part of n) passed again. A kind a task's shape rule or
        range cannot hold is left out.
        """
        if not self.heldout:
            return ()
        edges = self.edge_sizes(rng)
        if not self.residue_checks:  # the held-out shapes alone, once more, at other input scales
            again = [Size(f"{c.label}-again", self.heldout_dims(c, rng), correctness_only=True) for c in self.heldout]
            if not self.scale_free_inputs and not self.other_distributions:
                again = []
            return self.at_other_distributions(self.at_other_scales([*again, *edges], rng), rng)
        gaps = self._gap_centres(rng)
        plans = [(centre, RESIDUE_PICKERS) for centre in self.heldout]
        plans += [(centre, GAP_PICKERS) for centre in gaps]
        sizes = self._sizes_around(plans, rng) + self._above_sizes(rng)
        sizes += self._joint_residue_sizes([*self.heldout, *gaps], rng)
        return self.at_other_distributions(self.at_other_scales([*sizes, *edges], rng), rng)

    def edge_sizes(self, rng: np.random.Generator) -> list[Size]:
        """Correctness-only sizes on the contract's edges: the `smallest` dimensions (2 at least), and for each bound
        `largest` declares, a held-out draw with that dimension on its bound. hmc's chains were checked for
        d from 12 to 31 only (the contract allows 1 to 32), and a kernel wrong wherever d < 12 or d == 32 passed
        every gate; ising and hmc were never checked below their search's smallest size at all."""
        sizes = []
        if self.smallest is not None:
            # At least two elements a side: one value alone can be drawn constant (saxpy's one in 64 zeros
            # at one element is every time), and a run then cannot get inputs of its own.
            sizes.append(Size("edge-smallest", tuple(max(2, low) for low in self.smallest), correctness_only=True))
        if self.largest is not None:
            for index, bound in enumerate(self.largest):
                if bound is None:
                    continue
                drawn = list(self.heldout_dims(self.heldout[0], rng))
                if index < len(drawn):
                    drawn[index] = bound
                    sizes.append(Size(f"edge-largest-{index}", tuple(drawn), correctness_only=True))
        return sizes

    def _above_sizes(self, rng: np.random.Generator) -> list[Size]:
        """A correctness-only size of each `GAP_PICKERS` kind around `_above_centre`, drawn again (a few times at
        most) until it holds more elements than any size a gate checks: the draw around a centre reaches down to
        0.75 of it a side."""
        centre = self._above_centre(rng)
        largest = max(math.prod(size.dims) for size in (*self.sizes, *self.heldout))
        found = []
        for kind, pick in GAP_PICKERS:
            dims: tuple[int, ...] | None = None
            for _ in range(16):
                try:
                    dims = self.heldout_dims(centre, rng, pick)
                except NoDimensionError:
                    break
                if math.prod(dims) > largest:
                    break
            if dims is not None:
                found.append(Size(f"above-{kind}", dims, correctness_only=True))
        return found

    def _above_centre(self, rng: np.random.Generator) -> Size:
        """A centre beyond every size a gate checks: each dimension past the largest the search or the
        held-out centres use, 1.35 to 1.6 times their product in all (within `largest`). Nothing above the
        largest checked size was ever judged: an nbody kernel keeping every body in 4,096 local slots, and a
        saxpy kernel dropping `+ y` from n = 9,000,000 on, passed both gates."""
        width = len(self.heldout[0].dims)
        anchors = [size.dims for size in (*self.sizes, *self.heldout) if len(size.dims) == width]
        grow = float(rng.uniform(1.35, 1.6)) ** (1.0 / width)
        bounds = self.largest if self.largest is not None and len(self.largest) == width else (None,) * width
        dims = []
        for index in range(width):
            top = max(dims_[index] for dims_ in anchors)
            wanted = max(top + 1, round(top * grow))
            bound = bounds[index]
            dims.append(wanted if bound is None else min(wanted, bound))
        return Size("above", tuple(dims))

    def _sizes_around(
        self, plans: Sequence[tuple[Size, Sequence[tuple[str, Picker]]]], rng: np.random.Generator
    ) -> list[Size]:
        """A correctness-only size of each picker's kind around each centre, labelled `<centre>-<kind>` (a kind the
        centre's range or the task's shape rule cannot hold is left out)."""
        sizes = []
        for centre, pickers in plans:
            for kind, pick in pickers:

                def draw(pick: Picker = pick, centre: Size = centre) -> tuple[int, ...]:
                    return self.heldout_dims(centre, rng, pick)

                try:
                    sizes.append(Size(f"{centre.label}-{kind}", distinct(draw), correctness_only=True))
                except NoDimensionError:
                    continue
        return sizes

    def _joint_residue_sizes(self, centres: Sequence[Size], rng: np.random.Generator) -> list[Size]:
        """Correctness-only sizes whose sides take every pair of residues mod 4 of every two dimensions
        (`residue_rows`), each around a centre chosen at random, so no joint residue class of two sides is
        left unchecked and none is tied to one scale. Tasks of one dimension, or more than the rows cover,
        get none."""
        width = len(self.heldout[0].dims)
        usable = [centre for centre in centres if len(centre.dims) == width]
        if width < 2 or width > MAX_COVERED_DIMENSIONS or not usable:
            return []
        sizes = []
        for row in residue_rows(width, rng):
            # A centre chosen at random, another where its ranges cannot hold the row (a "below" centre's few
            # sides near the contract's smallest): every row is checked somewhere.
            for position in rng.permutation(len(usable)):
                centre = usable[int(position)]

                def draw(row: tuple[int, ...] = row, centre: Size = centre) -> tuple[int, ...]:
                    return self.heldout_dims(centre, rng, per_dimension([with_residue(r) for r in row]))

                try:
                    dims = distinct(draw)
                except NoDimensionError:
                    continue
                sizes.append(Size(f"{centre.label}-mod4-{''.join(map(str, row))}", dims, correctness_only=True))
                break
        return sizes

    def at_every_other_input(self, sizes: Sequence[Size], rng: np.random.Generator) -> tuple[Size, ...]:
        """Each of `sizes` once more, correctness only, under each of the task's `other_distributions` and
        with its scale-free inputs scaled once up and once down (10^k, k drawn from SCALE_DECADES).

        The sizes a gate times are all of one kind (the search's multiples of large powers of two, the
        held-out draws' primes), and the other distributions and scales were checked only at sizes of
        other kinds. A kernel that tested whether every side was prime or a power of two, and clamped lbm's
        density there, was wrong on fast flows at exactly the sizes it was timed at and passed both gates
        at 4.4x the seed. Every judged shape is therefore also checked under every other input the task
        declares, so that no property of a shape marks where the unusual inputs are never seen.
        """
        again: list[Size] = []
        low, high = SCALE_DECADES
        for size in sizes:
            plain = replace(size, correctness_only=True, input_scale=1.0, distribution="")
            again += [
                replace(plain, label=f"{size.label}-{name}", distribution=name)
                for name in sorted(self.other_distributions)
            ]
            if self.scale_free_inputs:
                for sign, word in ((1, "up"), (-1, "down")):
                    scale = 10.0 ** (sign * float(rng.uniform(low, high)))
                    again.append(replace(plain, label=f"{size.label}-scaled-{word}", input_scale=scale))
        return tuple(again)

    def at_other_distributions(self, sizes: Sequence[Size], rng: np.random.Generator) -> tuple[Size, ...]:
        """`sizes`, with each of the task's `other_distributions` given to at least one of them (to sizes at the
        usual scale first), chosen from `rng`; where there are fewer sizes than distributions, added copies."""
        sized = list(sizes)
        if not self.other_distributions or not sized:
            return tuple(sized)
        order = [int(i) for i in rng.permutation(len(sized))]
        order.sort(key=lambda i: sized[i].input_scale != 1.0)  # stable: unscaled sizes first, in drawn order
        for turn, name in enumerate(sorted(self.other_distributions)):
            if turn < len(order):
                position = order[turn]
                sized[position] = replace(sized[position], distribution=name)
            else:
                sized.append(replace(sized[order[turn % len(order)]], distribution=name))
        return tuple(sized)

    def at_other_scales(self, sizes: list[Size], rng: np.random.Generator) -> tuple[Size, ...]:
        """`sizes`, half of them (at least one above and one below) with the scale-free inputs scaled.

        Each chosen size gets 10^k with k drawn from [SCALE_DECADES] up or down, alternating, at sizes
        chosen from `rng`: no kernel can tell in advance which sizes, or which magnitudes, are checked.
        """
        if not self.scale_free_inputs or not sizes:
            return tuple(sizes)
        chosen = rng.permutation(len(sizes))[: max(2, len(sizes) // 2)]
        low, high = SCALE_DECADES
        for turn, position in enumerate(chosen):
            exponent = float(rng.uniform(low, high)) * (1 if turn % 2 == 0 else -1)
            size = sizes[int(position)]
            sizes[int(position)] = replace(size, input_scale=10.0**exponent)
        return tuple(sizes)

    def _gap_centres(self, rng: np.random.Generator) -> list[Size]:
        """One centre drawn log-uniformly between each two neighbouring sizes a gate checks (the search's
        sizes and the held-out centres, in order of element count) that lie more than 2x apart.

        Checked only at powers of two and within 0.75-1.3x of each held-out centre, a saxpy kernel wrong at
        every other size below 70,000 and between 140,000 and 2,100,000 passed both gates; the sizes drawn
        around these centres leave no stretch of the claimed range unchecked."""
        anchors = sorted(
            (size for size in (*self.sizes, *self.heldout) if len(size.dims) == len(self.heldout[0].dims)),
            key=lambda size: math.prod(size.dims),
        )
        centres = []
        if self.smallest is not None and len(self.smallest) == len(anchors[0].dims):
            share = rng.uniform(0.0, 0.8)  # from the contract's smallest up: a kernel wrong below 40 is seen too
            # No lower than what the draw around the centre (down to LOW times it) keeps at the smallest.
            dims = tuple(
                max(math.ceil(low / HELD_OUT_LOW), round(low ** (1 - share) * high**share))
                for low, high in zip(self.smallest, anchors[0].dims, strict=True)
            )
            if math.prod(dims) < math.prod(anchors[0].dims):
                centres.append(Size("below", dims))
        for index, (low, high) in enumerate(itertools.pairwise(anchors)):
            if math.prod(high.dims) <= 2 * math.prod(low.dims):
                continue
            share = rng.uniform(0.2, 0.8)
            dims = tuple(
                max(1, round(math.exp(math.log(a) + share * (math.log(b) - math.log(a)))))
                for a, b in zip(low.dims, high.dims, strict=True)
            )
            centres.append(Size(f"gap{index}", dims))
        return centres


SCALE_DECADES = (3.0, 8.0)
"""How many decades (drawn between these) the held-out gate moves scale-free inputs up or down: beyond the
three decades `signed_values` spans, and within float32's range for every suite task (an FFT of a
million values a hundred million times larger still sums far below its largest finite value)."""


def signed_values(count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` float32 values of both signs around a random scale (0.1 to 10), one in 64 an exact zero.

    Inputs drawn from [0, 1) only let a kernel that used |x|, or dropped a sign, pass every check;
    these cover signs, zeros and magnitudes several decades apart at the cost of one normal draw.
    """
    values = rng.standard_normal(count, dtype=np.float32)
    values *= np.float32(10.0 ** rng.uniform(-1.0, 1.0))
    values[rng.integers(0, count, max(count // 64, 1))] = 0.0
    return values


BLOCK_VALUES = 1 << 17
"""About how many values one block of a blocked reference holds (1 MB in float64): whole-grid temporaries of
the suite's largest stencil sizes are 56-75 MB each and ran through memory several times per evaluation."""


def line_blocks(first: int, stop: int, line_values: int) -> Iterator[tuple[int, int]]:
    """Lines first .. stop-1 of a grid, `line_values` values each, in consecutive blocks [start, end) of about
    `BLOCK_VALUES`, for references that compute a block at a time: each point's arithmetic is the whole-grid
    formula's, only the temporaries stay in cache."""
    per_block = max(1, BLOCK_VALUES // max(1, line_values))
    for start in range(first, stop, per_block):
        yield start, min(start + per_block, stop)


def interior_blocks(lines: int, line_values: int) -> Iterator[tuple[int, int]]:
    """The interior lines 1 .. lines-2 in blocks (`line_blocks`), for stencils with one line of halo each side."""
    return line_blocks(1, lines - 1, line_values)


def with_params(source: str, params: dict[str, int]) -> str:
    """The source with its `//@params` line replaced (or added) to declare `params`."""
    line = "//@params " + " ".join(f"{name}={value}" for name, value in params.items())
    if _PARAMS_LINE.search(source):
        return _PARAMS_LINE.sub(line, source, count=1)
    return line + "\n" + source


CHECK_CHUNK = 1 << 16
"""Elements compared at a time: float64 temporaries of this size stay in cache (8x faster on 9M elements)."""


ALLOWED_ERROR = ":allowed-error"
"""The suffix of a reference output's companion: how far each of its elements may be from the reference.

A tolerance relative to an output's largest value says nothing about the rest where a few elements are
far larger than the others: lj's planted close pairs reach forces of 10^15, which let every other force
be off by 10^11, and a kernel reading at most 28 particles of a cell passed most such draws. A reference
that sums terms knows each element's rounding scale (the sum of its terms' magnitudes) and can say."""


def bounded_check(got: np.ndarray, expected: np.ndarray, allowed: np.ndarray) -> Check:
    """Every element within its own allowed error (`ALLOWED_ERROR`, or a task file's atol + rtol * |reference|);
    non-finite values must match the reference's. The error is the largest absolute difference, the tolerance
    the bound at the element furthest past (or nearest to) its own."""
    flat_got = got.reshape(-1).astype(np.float64)
    flat_ref, bound = expected.reshape(-1).astype(np.float64), allowed.reshape(-1).astype(np.float64)
    if flat_got.shape != flat_ref.shape or bound.shape != flat_ref.shape:
        return Check(False, math.inf, 0.0, f"{flat_got.size} values where the reference has {flat_ref.size}")
    if not flat_ref.size:
        return Check(True, 0.0, 0.0)
    finite = np.isfinite(flat_ref)
    bad = np.flatnonzero(finite & ~np.isfinite(flat_got))
    if bad.size:
        return Check(False, math.inf, float(bound[bad[0]]), f"non-finite value at element {int(bad[0])}")
    unmatched = non_finite_mismatch(flat_got, flat_ref)
    if unmatched:
        return Check(False, math.inf, 0.0, unmatched)
    with np.errstate(invalid="ignore"):
        difference = np.where(finite, np.abs(flat_got - flat_ref), 0.0)
    worst = int(np.argmax(difference / np.maximum(bound, 1e-300)))
    ok = bool(np.all(difference <= bound))
    detail = (
        ""
        if ok
        else f"worst at element {worst}: got {flat_got[worst]:.6g}, want {flat_ref[worst]:.6g} "
        f"(allowed {bound[worst]:.3g}); {int(np.count_nonzero(difference > bound))} elements out of tolerance"
    )
    return Check(ok, float(np.max(difference)), float(bound[worst]), detail)


def allclose_check(got: np.ndarray, expected: np.ndarray, tolerance: float) -> Check:
    """Max absolute error against `tolerance` times the reference's largest magnitude (NaN fails).

    Large arrays are compared chunk by chunk with the same result as `_allclose_whole`, which
    handles everything unusual (shapes that differ, a non-finite reference).
    """
    flat_got, flat_ref = got.reshape(-1), expected.reshape(-1)
    if got.shape != expected.shape or flat_got.size <= CHECK_CHUNK:
        return _allclose_whole(got, expected, tolerance)
    chunks = range(0, flat_got.size, CHECK_CHUNK)
    scale = float(np.max([np.max(np.abs(flat_ref[a : a + CHECK_CHUNK].astype(np.float64))) for a in chunks]))
    if not math.isfinite(scale):
        return _allclose_whole(got, expected, tolerance)
    limit = tolerance * max(scale, 1e-30)
    error, worst = -1.0, 0
    for start in chunks:
        part = flat_got[start : start + CHECK_CHUNK].astype(np.float64)
        finite = np.isfinite(part)
        if not finite.all():
            return Check(False, math.inf, limit, f"non-finite value at element {start + int(np.argmax(~finite))}")
        difference = np.abs(part - flat_ref[start : start + CHECK_CHUNK].astype(np.float64))
        at = int(np.argmax(difference))
        if difference[at] > error:
            error, worst = float(difference[at]), start + at
    detail = (
        ""
        if error <= limit
        else f"worst at element {worst}: got {float(flat_got[worst]):.6g}, want {float(flat_ref[worst]):.6g}"
    )
    return Check(error <= limit, error, limit, detail)


def _allclose_whole(got: np.ndarray, expected: np.ndarray, tolerance: float) -> Check:
    got64 = got.astype(np.float64, copy=False)
    ref64 = expected.astype(np.float64, copy=False)
    finite = np.isfinite(ref64)
    # A non-finite reference value would make the scale infinite and every finite output "close":
    # the scale is the finite values', and a non-finite one must be matched exactly.
    scale = float(np.max(np.abs(ref64[finite]))) if finite.any() else 1.0
    limit = tolerance * max(scale, 1e-30)
    unmatched = non_finite_mismatch(got64, ref64)
    if unmatched:
        return Check(False, math.inf, limit, unmatched)
    if not np.all(np.isfinite(got64) | ~finite):
        bad = int(np.argmax((~np.isfinite(got64) & finite).reshape(-1)))
        return Check(False, math.inf, limit, f"non-finite value at element {bad}")
    with np.errstate(invalid="ignore"):
        difference = np.where(finite, np.abs(got64 - ref64), 0.0)
    worst = int(np.argmax(difference)) if difference.size else 0
    error = float(difference.reshape(-1)[worst]) if difference.size else 0.0
    detail = (
        ""
        if error <= limit
        else f"worst at element {worst}: got {got64.reshape(-1)[worst]:.6g}, want {ref64.reshape(-1)[worst]:.6g}"
    )
    return Check(error <= limit, error, limit, detail)


def non_finite_mismatch(got: np.ndarray, expected: np.ndarray) -> str:
    """Where the reference is NaN or infinite, the output must be the same (NaN, or that infinity); else ""."""
    flat_got, flat_ref = got.reshape(-1), expected.reshape(-1)
    if flat_got.shape != flat_ref.shape:
        return ""
    odd = np.flatnonzero(~np.isfinite(flat_ref))
    if odd.size == 0:
        return ""
    want, have = flat_ref[odd], flat_got[odd]
    wrong = np.flatnonzero(~((np.isnan(want) & np.isnan(have)) | (want == have)))
    if wrong.size == 0:
        return ""
    at = int(odd[wrong[0]])
    return (
        f"{wrong.size} elements where the reference is not finite differ; first at {at}: "
        f"got {float(flat_got[at]):.6g}, want {float(flat_ref[at]):.6g}"
    )


def exact_check(got: np.ndarray, expected: np.ndarray) -> Check:
    """Bit-exact equality (integer tasks with a counter-based RNG); NaN where the reference is NaN.

    A float task declared exact compared with `!=`, under which NaN never equals NaN: a kernel
    computing the reference's own NaN (a square root of a negative input) was rejected. Under `!=` -0.0
    equals +0.0 too, which bit for bit it does not: a real zero's sign is checked.
    """
    flat_got, flat_ref = got.reshape(-1), expected.reshape(-1)
    differs = flat_got != flat_ref
    if flat_ref.dtype.kind == "f" and flat_got.dtype.kind == "f":
        differs &= ~(np.isnan(flat_got) & np.isnan(flat_ref))
        differs |= np.signbit(flat_got) != np.signbit(flat_ref)  # -0.0 is not +0.0 bit for bit
        differs &= ~(np.isnan(flat_got) & np.isnan(flat_ref))  # any NaN where the reference has one
    elif flat_ref.dtype.kind in "fc" and flat_got.dtype.kind in "fc":
        differs &= ~(np.isnan(flat_got) & np.isnan(flat_ref))
    mismatch = np.flatnonzero(differs)
    if mismatch.size == 0:
        return Check(True, 0.0, 0.0)
    first = int(mismatch[0])
    return Check(
        False,
        float(mismatch.size),
        0.0,
        f"{mismatch.size} elements differ; first at {first}: "
        f"got {got.reshape(-1)[first]}, want {expected.reshape(-1)[first]}",
    )
