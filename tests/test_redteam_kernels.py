"""Kernel gates against attacks beyond the kernel cheats of `test_kernel_gates_hostile`.

- Inline assembly: on a CPU device a kernel is native code inside the worker, and `__asm__`
  (spelled out, or pasted together by a macro) makes system calls from there: it could write files
  or a forged reply to the host's pipe. It is refused before compiling, and a pasted one does not
  compile.
- A reply that leaves out the timed run the host's random check points at (all a kernel that works
  only on the always-checked runs needs, once it controls the reply) is refused by the host.
- A task file whose expressions or held-out ranges make the host compute for hours (a tower of
  powers, a prime search among 24-digit numbers) is bad input, refused at once.
"""

from __future__ import annotations

import io
import platform
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import yaml

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import opencl_usable, require_tool
from tools import TaskError
from tools.kernels import SUITE, Harness, Worker, kernel_task
from tools.kernels._definition import read_definition_files
from tools.kernels._expressions import parse_expression
from tools.kernels._heldout import EVEN_POWERS, RESIDUE_PICKERS, is_prime
from tools.kernels._task import CandidateError

SAXPY = SUITE["saxpy"].seed
CONV1D = Path(__file__).resolve().parent.parent / "tools" / "kernels" / "examples" / "conv1d"


def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths))


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    with Worker(factory, tmp_path_factory.mktemp("redteam") / "worker") as shared:
        yield shared


# -- inline assembly -----------------------------------------------------------------------------------

SYSCALL = '("syscall" : "=a"(r) : "a"(2L), "D"(path), "S"(0101L), "d"(0644L) : "rcx", "r11", "memory")'
"""x86-64 open(path, O_WRONLY | O_CREAT, 0644): a file appears in the worker's directory."""


def with_assembly(keyword: str, prelude: str = "") -> str:
    """The honest saxpy seed that also creates a file named `syscall-ran` through a raw system call."""
    call = (
        '    if (get_global_id(0) == 0) { long r; __constant char* path = "syscall-ran"; '
        f"{keyword} volatile {SYSCALL}; }}\n"
    )
    source = SAXPY.replace("    int i = get_global_id(0) * VEC;\n", call + "    int i = get_global_id(0) * VEC;\n")
    assert source != SAXPY
    return prelude + source


@pytest.mark.parametrize(
    "source",
    [
        with_assembly("__asm__"),
        with_assembly("asm"),
        with_assembly("__asm"),
        with_assembly("__as\\\nm__"),  # split by a line splice
        with_assembly("__as\\ \t\nm__"),  # a splice with blanks before the line end (clang only warns)
        with_assembly("__as??/\nm__"),  # a splice spelled as a trigraph
        with_assembly("__as\\\rm__"),  # a splice before a lone carriage return
        "// uses __asm__ nowhere but here\n" + SAXPY,
    ],
)
def test_inline_assembly_is_refused_before_compiling(source: str) -> None:
    with pytest.raises(CandidateError, match="inline assembly is not allowed"):
        SUITE["saxpy"].parse(source)


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ('#inc\\ \nlude "/etc/hostname"\n' + SAXPY, "may not read other files"),
        ('#inc??/\nlude "/etc/hostname"\n' + SAXPY, "may not read other files"),
        ('#if __has_include("/etc/shadow")\n#endif\n' + SAXPY, "may not ask about host files"),
        ("#if __has_incl\\  \nude(</etc/shadow>)\n#endif\n" + SAXPY, "may not ask about host files"),
        (SAXPY + "\0 __asm__", "NUL byte"),
        # The compiler ends a line comment at a lone carriage return; the checks read on to the newline.
        ('// note\r#include "/etc/passwd"\n' + SAXPY, "may not read other files"),
        ('// note\r#pragma GCC dependency "/etc/shadow"\n' + SAXPY, "only these pragmas"),
    ],
    ids=[
        "include split with blanks",
        "include split by a trigraph",
        "__has_include",
        "split __has_include",
        "NUL",
        "include after a carriage return",
        "pragma after a carriage return",
    ],
)
def test_host_files_cannot_be_named_through_splices_or_queries(source: str, match: str) -> None:
    with pytest.raises(CandidateError, match=match):
        SUITE["saxpy"].parse(source)


def test_honest_words_containing_asm_are_not_refused() -> None:
    source = SAXPY.replace("int i = get_global_id(0)", "int plasma_ = 0; int i = plasma_ + get_global_id(0)")
    assert SUITE["saxpy"].parse(source).source == source


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="the system call is x86-64 assembly")
def test_inline_assembly_pasted_by_a_macro_does_not_compile(worker: Worker) -> None:
    source = with_assembly("CAT(__as, m__)", prelude="#define CAT(a, b) a##b\n")
    SUITE["saxpy"].parse(source)  # no keyword in the text: only the compiler can refuse it
    evaluation = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=3).evaluate(source, seed=3)
    assert evaluation.status == "compile_error", evaluation.feedback()
    assert "inline_assembly_is_not_allowed" in evaluation.message
    assert not (worker.workdir / "syscall-ran").exists(), "the kernel made a system call in the worker"


# -- the random check, enforced by the host -------------------------------------------------------------


class DroppingWorker:
    """The worker's own trial code, with a reply that keeps only the always-checked runs (first, last)."""

    def __init__(self) -> None:
        from tools.kernels._opencl import OpenCLBackend

        self.backend = OpenCLBackend()
        self.dropped = 0

    def request(
        self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from tools.kernels._trial import evaluate

        reply, payload = evaluate(self.backend, dict(header), dict(arrays))
        ends = {0, int(reply["runs"]) - 1}
        dropped = [run for run in reply["checked"] if run not in ends]
        self.dropped += len(dropped)
        reply["checked"] = sorted(ends)
        for run in dropped:
            for name in header["outputs"]:
                payload.pop(f"{name}@{run}", None)
        return reply, payload


def test_a_reply_without_the_randomly_checked_run_is_refused() -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    device = DroppingWorker()
    harness = Harness(SUITE["saxpy"], cast(Worker, device), ceilings=None, repeats=4)
    for seed in range(40):
        evaluation = harness.evaluate(SAXPY, seed=seed, sizes=SUITE["saxpy"].sizes[:1])
        if device.dropped:
            break
    assert device.dropped, "no seed pointed the random check at a run between the first and the last"
    assert evaluation.status == "incorrect", evaluation.feedback()
    assert "did not return the runs the host asked to check" in evaluation.feedback()


def test_an_honest_reply_keeps_every_asked_run() -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from tests.test_kernel_gates_hostile import InProcessWorker
    from tools.kernels._opencl import OpenCLBackend

    harness = Harness(SUITE["saxpy"], cast(Worker, InProcessWorker(OpenCLBackend())), ceilings=None, repeats=4)
    for seed in range(4):
        evaluation = harness.evaluate(SAXPY, seed=seed, sizes=SUITE["saxpy"].sizes[:1])
        assert evaluation.status == "ok", evaluation.feedback()


# -- hostile task files ---------------------------------------------------------------------------------


def conv1d_definition() -> dict[str, Any]:
    data = yaml.safe_load((CONV1D / "task.yaml").read_text())
    params = read_definition_files(data["params"], CONV1D)
    return cast(dict[str, Any], params["definition"])


@pytest.mark.timeout(60)
def test_a_tower_of_powers_is_refused_not_computed() -> None:
    tower = "((((((9 ** 64) ** 64) ** 64) ** 64) ** 64) ** 64)"
    with pytest.raises(TaskError, match="overflows"):
        parse_expression(tower, "f", ["n"]).integer({"n": 3})
    definition = conv1d_definition()
    definition["work"]["flops"] = f"{tower} // {tower}"
    with pytest.raises(TaskError, match=r"params\.definition\.work\.flops: .* overflows"):
        kernel_task("conv1d", definition)


@pytest.mark.parametrize(
    ("where", "steps"),
    [("heldout.heldout.steps", [10**23, 10**24]), ("sizes.small.steps", 2**40), ("heldout.heldout.steps", 2**31)],
)
def test_sizes_beyond_a_kernel_int_are_bad_input(where: str, steps: Any) -> None:
    """A size no buffer grows with escapes the limit on bytes; drawing primes near 1e24 would not end."""
    definition = conv1d_definition()
    definition["dims"] = ["n", "steps"]
    for sizes in (definition["sizes"], definition["heldout"]):
        for dims in sizes.values():
            dims["steps"] = 4
    label, field = where.split(".")[:2]
    definition[label][field]["steps"] = steps
    with pytest.raises(TaskError, match=re.escape(f"params.definition.{where}: ") + ".*largest size"):
        kernel_task("conv1d", definition)


@pytest.mark.timeout(60)
def test_primality_is_decided_quickly_at_any_size() -> None:
    """Trial division took minutes per prime near 1e18; the held-out draw tests many numbers."""
    mersenne = 2**61 - 1
    assert is_prime(mersenne)
    assert not is_prime(mersenne * (2**31 - 1))
    assert not is_prime(3215031751)  # a strong pseudoprime to bases 2, 3, 5 and 7
    small = [n for n in range(200) if is_prime(n)]
    assert small[:10] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29] and len(small) == 46


FORGING_REFERENCE = """import struct
import sys

import numpy as np


def reference(n, x, w):
    frame = sys._getframe()
    while "outbox" not in frame.f_locals:
        frame = frame.f_back
    outbox = frame.f_locals["outbox"]
    header = HEADER
    outbox.write(struct.pack("<Q", len(header)) + header)
    outbox.flush()
    return np.correlate(x.astype(np.float64), w.astype(np.float64), mode="valid")
"""


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (b'{"ok": true, "arrays": [{"name": "y", "shape": ["n"]}], "payload": 0}', "malformed array"),
        # Each of these once escaped as a UnicodeDecodeError / RecursionError / ValueError, which the gates
        # reported as their own failure ("gate failed while checking") rather than the worker's.
        (b'{"ok": "\xff\xfe"}', "malformed message header: UnicodeDecodeError"),
        (b'{"ok": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "malformed message header: RecursionError"),
        (
            b'{"arrays": [{"name": "y", "dtype": "float32", "shape": [0, '
            + b"9" * 30
            + b'], "offset": 0}], "payload": 0}',
            "array 'y' has a shape numpy refuses",
        ),
    ],
)
def test_a_reference_that_writes_to_the_reply_pipe_is_a_clear_error(tmp_path: Path, header: bytes, named: str) -> None:
    """A task file's reference runs in a worker and can reach its reply pipe: a broken message is an error."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    definition = conv1d_definition()
    definition["files"]["reference.py"] = FORGING_REFERENCE.replace("HEADER", repr(header + b"\n"))
    task = kernel_task("conv1d", definition)
    with (
        task.reference_sandbox(tmp_path / "reference", factory, "opencl"),
        Worker(factory, tmp_path / "w") as own,
        pytest.raises(TaskError, match=f"crashed its worker: the worker broke the protocol: {named}"),
    ):
        Harness(task, own, ceilings=None, repeats=3).evaluate(task.seed, seed=3)


@pytest.mark.parametrize(
    "header",
    [
        b'{"arrays": [{"name": "y"}], "payload": 0}',
        b'{"arrays": [{"name": "y", "dtype": "float32", "shape": ["n"], "offset": 0}], "payload": 4}',
        b'{"arrays": [{"name": "y", "dtype": "float32", "shape": [-1], "offset": 0}], "payload": 4}',
        b'{"arrays": {"y": 1}, "payload": 0}',
        b'{"arrays": [7], "payload": 0}',
        b'{"arrays": [], "payload": "4"}',
        b'{"arrays": [], "payload": 0, "note": "\xff\xfe"}',  # no UTF-8
        b'{"arrays": ' + b"[" * 100_000 + b"]" * 100_000 + b', "payload": 0}',  # past the recursion limit
        b'{"arrays": [], "payload": 0, "x": ' + b"9" * 5000 + b"}",  # more digits than Python converts
        b'{"arrays": [{"name": "y", "dtype": "float32", "shape": [0, ' + b"9" * 30 + b'], "offset": 0}], "payload": 4}',
        b'{"arrays": [{"name": "y", "dtype": "float32", "shape": [' + b"1, " * 66 + b'1], "offset": 0}], "payload": 4}',
    ],
)
def test_a_malformed_message_is_a_protocol_error(header: bytes) -> None:
    from tools.kernels._protocol import LENGTH, ProtocolError, decode

    stream = io.BytesIO(LENGTH.pack(len(header)) + header + bytes(16))
    with pytest.raises(ProtocolError):
        decode(stream.read)


@pytest.mark.parametrize(
    ("init", "field"),
    [
        ({"integers": [0, 10**30]}, "integers"),  # a ValueError on the first draw
        ({"uniform": [-1e308, 1e308]}, "uniform"),  # an OverflowError on the first draw
        ({"uniform": [0.0, float("inf")]}, "uniform"),
        ({"uniform": [0.0, 1e39]}, "uniform"),  # float32 infinities
        ({"normal": [0.0, 1e300]}, "normal"),  # float32 infinities, silently
        ({"normal": [float("nan"), 1.0]}, "normal"),
    ],
)
def test_input_distributions_a_buffer_cannot_hold_are_bad_input(init: dict[str, Any], field: str) -> None:
    definition = conv1d_definition()
    definition["args"][1]["init"] = init
    with pytest.raises(TaskError, match=re.escape(f"params.definition.args[1].init.{field}: ")):
        task = kernel_task("conv1d", definition)
        drawn = task.inputs(task.sizes[0], np.random.default_rng(1))["x"]
        assert np.isfinite(drawn).all(), "the draw filled the buffer with infinities"


def test_input_distributions_within_range_still_load() -> None:
    for init in ({"uniform": [-3e38, 3e38]}, {"normal": [1e30, 1e30]}, {"integers": [-(2**40), 2**40]}):
        definition = conv1d_definition()
        definition["args"][1]["init"] = init
        task = kernel_task("conv1d", definition)
        assert np.isfinite(task.inputs(task.sizes[0], np.random.default_rng(1))["x"]).all()


@pytest.mark.parametrize(("kind", "value"), [("i32", "n * 100000"), ("f32", "1e39"), ("i32", -(2**31) - 1)])
def test_a_scalar_its_type_cannot_hold_is_bad_input(kind: str, value: Any) -> None:
    """Before, an i32 of 4e9 reached the worker and failed there as a launch error of every candidate."""
    definition = conv1d_definition()
    definition["args"].append({"name": "extra", "type": kind, "value": value})
    with pytest.raises(TaskError, match=re.escape("params.definition.args[4].value: ")):
        kernel_task("conv1d", definition)


# -- held-out sizes of every residue ----------------------------------------------------------------------

WRONG_AT_TWO_MOD_FOUR = """//@params LOCAL=64 VEC=4
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0) * 4;
    if (i + 3 < n) {
        vstore4(a * vload4(0, x + i) + vload4(0, y + i), 0, y + i);
    } else if (i < n) {
        if ((n & 3) == 2) { y[i] = a * x[i] + y[i]; }
        else { for (int k = i; k < n; ++k) y[k] = a * x[k] + y[k]; }
    }
}
"""
"""Right at every multiple of four (the search's sizes) and every odd size (the drawn primes): wrong at 4k + 2."""

TAIL_SAXPY = WRONG_AT_TWO_MOD_FOUR.replace(
    "if ((n & 3) == 2) { y[i] = a * x[i] + y[i]; }\n        else { for", "for"
).replace("y[k] = a * x[k] + y[k]; }\n", "y[k] = a * x[k] + y[k];\n")


@pytest.mark.slow  # 14 residue sizes, half of them near the larger held-out centre
def test_the_even_heldout_size_catches_what_the_drawn_primes_miss(worker: Worker) -> None:
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=3)
    primes = harness.sizes_for("heldout", 11)
    assert harness.evaluate(WRONG_AT_TWO_MOD_FOUR, "heldout", seed=11, sizes=primes[1:]).status == "ok"
    even = harness.evaluate(WRONG_AT_TWO_MOD_FOUR, "heldout", seed=11, sizes=harness.residue_sizes(11))
    assert even.status == "incorrect", even.feedback()
    assert harness.evaluate(TAIL_SAXPY, "heldout", seed=11, sizes=harness.residue_sizes(11)).status == "ok"


WRONG_AT_EIGHT_MOD_SIXTEEN = """//@params LOCAL=64 VEC=16
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0) * 16;
    if (i + 15 < n) {
        vstore16(a * vload16(0, x + i) + vload16(0, y + i), 0, y + i);
    } else if (i < n) {
        int end = (n & 15) == 8 ? n - 1 : n;
        for (int k = i; k < end; ++k) y[k] = a * x[k] + y[k];
    }
}
"""
"""Sixteen at a time; its tail drops the last element where eight are left over, and only there."""


def test_each_power_of_two_has_its_own_heldout_size(worker: Worker) -> None:
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=3)
    sizes = harness.residue_sizes(11)
    by_power = {int(size.label.rsplit("even", 1)[1]): size for size in sizes if "-even" in size.label}
    assert sorted(by_power) == sorted(EVEN_POWERS), sizes
    for power, wrong in ((2, WRONG_AT_TWO_MOD_FOUR), (8, WRONG_AT_EIGHT_MOD_SIXTEEN)):
        for other, size in by_power.items():
            result = harness.evaluate(wrong, "heldout", seed=11, sizes=(size,))
            assert result.status == ("incorrect" if other == power else "ok"), (power, other, result.feedback())


@pytest.mark.slow
def test_a_kernel_wrong_only_at_sizes_two_mod_four_fails_the_heldout_gate_measure() -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    from verifiers.kernels._measure import measure

    task = SUITE["saxpy"]
    result = measure(task, WRONG_AT_TWO_MOD_FOUR, "heldout", factory, rounds=1, input_seed=11)
    assert not result.candidate.ok, result.candidate.feedback()
    failed = [size for size in result.candidate.sizes if not size.correct]
    # An even2 size around either centre (one of the tail's elements may be an exact zero in a draw).
    assert any(size.label.endswith("-even2") for size in failed), result.candidate.feedback()
    assert all(dim % 4 == 2 for size in failed for dim in size.dims)
    honest = measure(task, TAIL_SAXPY, "heldout", factory, rounds=1, input_seed=11)
    assert honest.candidate.ok, honest.candidate.feedback()


RESIDUE_KINDS = [kind for kind, _ in RESIDUE_PICKERS]


def _kind_holds(kind: str, dim: int) -> bool:
    """Whether `dim` is of the arithmetic kind `kind` names (`RESIDUE_PICKERS`)."""
    if kind.startswith("even"):
        power = int(kind.removeprefix("even"))
        return dim % (2 * power) == power and is_prime(dim // power)
    if kind == "composite":
        odd = dim >> ((dim & -dim).bit_length() - 1)
        return any(odd % factor == 0 and odd != factor for factor in (3, 5, 7, 11, 13))
    return True


def test_every_task_with_arithmetic_freedom_draws_every_kind_of_residue_size() -> None:
    for name, halve in (
        ("saxpy", 1),
        ("heat2d", 1),
        ("wave3d", 1),
        ("nbody", 1),
        ("lbm", 1),
        ("gradshaf", 1),
        ("lj", 1),
        ("hmc", 1),
        ("ising", 2),
    ):
        task = SUITE[name]
        for seed in range(5):
            drawn = Harness(task, cast(Worker, None)).residue_sizes(seed)
            # beside them, a random size in each stretch between checked sizes (`gapN-any`) and below them
            # where the contract allows smaller sizes (`below-any`)
            sizes = [
                size
                for size in drawn
                if not size.label.startswith(("gap", "below", "above", "edge")) and "-mod4-" not in size.label
            ]
            kinds = [size.label.rsplit("-", 1)[1] for size in sizes]
            # and sizes whose sides take every joint residue mod 4 of two sides (`residue_rows`), each as labelled
            for size in (size for size in drawn if "-mod4-" in size.label):
                residues = [int(digit) for digit in size.label.rsplit("-", 1)[1]]
                assert [dim // halve % 4 for dim in size.dims] == residues or name == "ising", (name, size)
            assert set(kinds) <= set(RESIDUE_KINDS) and {"even2", "composite", "any1", "any2"} <= set(kinds), sizes
            for kind, size in zip(kinds, sizes, strict=True):
                assert all(dim % halve == 0 and _kind_holds(kind, dim // halve) for dim in size.dims), (name, size)
    # fft3d's shape rule leaves no other kind: its held-out shapes are checked once more, at other input scales
    # beside the contract's edges (`edge_sizes`)
    again = Harness(SUITE["fft3d"], cast(Worker, None)).residue_sizes(1)
    assert [size.label for size in again] == ["heldout-again", "heldout-box-again", "edge-smallest", "edge-long-axis"]
    assert sum(size.input_scale != 1.0 for size in again) >= 2
    task = kernel_task("conv1d", conv1d_definition())
    drawn = list(Harness(task, cast(Worker, None)).residue_sizes(3))
    # Every kind within every declared range: near the smallest one only, large sizes of a kind went unchecked.
    ranges = {"heldout": (20000, 40000), "heldout-small": (1000, 3000)}
    sizes = [size for size in drawn if not size.label.startswith("gap")]  # and sizes between them (gapN-any)
    assert [size.label for size in sizes] == [f"{label}-{kind}" for label in ranges for kind in RESIDUE_KINDS]
    assert [size.label for size in drawn if size.label.startswith("gap")] == ["gap0-any", "gap1-any", "gap2-any"]
    for size in sizes:
        label, kind = size.label.rsplit("-", 1)
        low, high = ranges[label]
        assert low <= size.dims[0] <= high and _kind_holds(kind, size.dims[0]), size


def test_a_user_range_too_narrow_for_a_kind_leaves_that_size_out() -> None:
    definition = conv1d_definition()
    definition["heldout"] = {"tiny": {"n": [13, 17]}}
    task = kernel_task("conv1d", definition)
    drawn = Harness(task, cast(Worker, None)).residue_sizes(3)
    sizes = [size for size in drawn if size.label.startswith("tiny-")]  # gap sizes lie between the declared ones
    kinds = [size.label.rsplit("-", 1)[1] for size in sizes]
    assert "even16" not in kinds and "even8" not in kinds and {"any1", "any2"} <= set(kinds), sizes
    assert all(
        13 <= size.dims[0] <= 17 and _kind_holds(kind, size.dims[0]) for kind, size in zip(kinds, sizes, strict=True)
    )


RIGHT_ONLY_AT_PRIME_ODD_PARTS = """//@params LOCAL=64 VEC=1
__kernel void saxpy(const int n, const float a, __global const float* x, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    int m = n >> ctz(n);
    int looked_at = (m % 3) && (m % 5) && (m % 7);
    y[i] = looked_at ? a * x[i] + y[i] : 0.0f;
}
"""
"""Right wherever the odd part of n is 1 or a prime above 7, which once held for every size any gate checked."""


@pytest.mark.slow  # 14 residue sizes, half of them near the larger held-out centre
def test_a_kernel_right_only_where_the_odd_part_is_prime_fails_the_residue_sizes(worker: Worker) -> None:
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=3)
    for seed in (1, 2, 3):
        drawn = harness.evaluate(RIGHT_ONLY_AT_PRIME_ODD_PARTS, "heldout", seed=seed)
        assert drawn.status == "ok", drawn.feedback()
        residues = harness.evaluate(
            RIGHT_ONLY_AT_PRIME_ODD_PARTS, "heldout", seed=seed, sizes=harness.residue_sizes(seed)
        )
        assert residues.status == "incorrect", residues.feedback()
        honest = harness.evaluate(SUITE["saxpy"].seed, "heldout", seed=seed, sizes=harness.residue_sizes(seed))
        assert honest.status == "ok", honest.feedback()


@pytest.mark.parametrize("tolerance", [{"rtol": float("inf")}, {"atol": float("inf")}, {"rtol": float("nan")}])
def test_an_infinite_tolerance_is_bad_input(tolerance: dict[str, float]) -> None:
    """`rtol: .inf` in a task file made every finite output correct, the held-out check included."""
    definition = conv1d_definition()
    definition["tolerance"] = tolerance
    with pytest.raises(TaskError, match=r"params\.definition\.tolerance"):
        kernel_task("conv1d", definition)


STALLING_REFERENCE = """import time

import numpy as np


def reference(n, x, w):
    import tools.kernels._worker as worker

    worker.read_message = lambda inbox: time.sleep(3600)  # the worker stays up and never reads again
    return np.correlate(x.astype(np.float64), w.astype(np.float64), mode="valid")
"""


@pytest.mark.timeout(120)
def test_a_worker_that_stops_reading_times_out_instead_of_hanging_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next request (inputs larger than a pipe's buffer) blocked the host's write forever, with no deadline."""
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")
    import tools.kernels._user_task as user_task

    monkeypatch.setattr(user_task, "REFERENCE_TIMEOUT", 5.0)
    definition = conv1d_definition()
    definition["files"]["reference.py"] = STALLING_REFERENCE
    definition["sizes"]["large"] = {"n": 4 << 20}  # 16 MB of inputs: more than any pipe holds
    task = kernel_task("conv1d", definition)
    large = task.sizes[-1]
    with (
        task.reference_sandbox(tmp_path / "reference", factory, "opencl"),
        Worker(factory, tmp_path / "w") as own,
        pytest.raises(TaskError, match="did not answer within 5 s"),
    ):
        Harness(task, own, ceilings=None, repeats=3).evaluate(task.seed, seed=3, sizes=[large])


def test_a_kernel_that_drops_signs_fails_at_the_search_sizes(worker: Worker) -> None:
    """Inputs were drawn from [0, 1) only: `a*fabs(x) + y` passed every size, held out or not."""
    cheat = SUITE["saxpy"].seed.replace("a * x[i + k]", "a * fabs(x[i + k])")
    assert cheat != SUITE["saxpy"].seed
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=3)
    result = harness.evaluate(cheat, "train", seed=5)
    assert result.status == "incorrect", result.feedback()
    inputs = SUITE["saxpy"].inputs(SUITE["saxpy"].sizes[0], np.random.default_rng(5))
    assert (inputs["x"] < 0).any() and (inputs["x"] == 0).any() and (inputs["y"] < 0).any()


def test_a_crash_note_quotes_nothing_an_earlier_candidate_printed(worker: Worker) -> None:
    """The stderr tail once held an earlier candidate's printf output, quoted as if the crash had printed it.
    Candidates may no longer call printf at all (PoCL's printf moves pointers through memory, see
    `tools/kernels/_pointer_casts.py`): the chatty one is refused before it runs, and the crash's note
    holds none of its text."""
    start = "int i = get_global_id(0) * VEC;"
    chatty = SUITE["saxpy"].seed.replace(start, start + '\n    if (i == 0) printf("EARLIER-CANDIDATE-SAID-THIS\\n");')
    crashing = SUITE["saxpy"].seed.replace(
        start,
        start + "\n    volatile float hoard[1 << 22];\n    hoard[get_global_id(0) & 1023] = 1.0f;\n"
        "    if (hoard[(get_global_id(0) * 7) & 1023] == 3.0f) return;",
    )
    harness = Harness(SUITE["saxpy"], worker, ceilings=None, repeats=1)
    refused = harness.evaluate(chatty, "train", seed=1, sizes=SUITE["saxpy"].sizes[:1])
    assert refused.status == "compile_error" and "printf" in refused.feedback(), refused.feedback()
    crashed = harness.evaluate(crashing, "train", seed=1, sizes=SUITE["saxpy"].sizes[:1])
    assert crashed.status == "crash", crashed.feedback()
    assert "EARLIER-CANDIDATE-SAID-THIS" not in crashed.feedback(), crashed.feedback()


def test_lj_inputs_change_cell_occupancy_and_order_with_every_draw() -> None:
    """A jittered lattice kept in lattice order, always filling the cells alike, let a kernel find its
    partners by fixed index offsets; the lattice is now shifted and each cell's particles shuffled."""
    task = SUITE["lj"]
    size = task.sizes[0]
    draws = [task.inputs(size, np.random.default_rng(seed)) for seed in (1, 2)]
    occupancy = [np.diff(draw["start"]) for draw in draws]
    assert not np.array_equal(occupancy[0], occupancy[1])
    for draw in draws:
        cell = draw["cell"]
        assert np.all(np.diff(cell) >= 0), "particles must stay sorted by cell"
        first = draw["start"][np.flatnonzero(np.diff(draw["start"]) > 1)[0]]
        pos = draw["pos"].reshape(-1, 4)[first : first + 2, :3]
        assert not np.all(pos[0] <= pos[1]), "a cell's particles came in lattice order"
