"""Compiles a turbulence model's C++ into a case-loadable library, inside the sandbox.

The source is untrusted (a proposer, possibly an LLM, wrote it), so g++ runs in a `LocalSandbox`: the
build folder is the only writable place, the headers are bound read-only, and time and memory are
bounded. Libraries are cached by the hash of the source, the compiler line and the headers, so a whole
search over run-time coefficients compiles once. A failed build raises `ModelCompileError` carrying the
compiler's diagnostics (file, line, message) for the proposer to learn from, never a traceback.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from runs import LabgateError, remove_untrusted_tree, write_atomically
from sandboxes import GIB, Limits, LocalSandbox, SandboxError, SandboxTimeoutError
from tools.cfd.models._headers import include_flags, require_headers

COMPILE_FLAGS = (
    "-std=c++11",
    "-m64",
    "-DOPENFOAM=1912",
    "-DWM_DP",
    "-DWM_LABEL_SIZE=32",
    "-O3",
    "-DNoRepository",
    "-ftemplate-depth-100",
    "-fmax-errors=20",
    "-fPIC",
    "-shared",
    "-Wl,--no-undefined",
)
LINK_LIBRARIES = (
    "-L/usr/lib",
    "-lincompressibleTurbulenceModels",
    "-lturbulenceModels",
    "-lfiniteVolume",
    "-lmeshTools",
    "-lOpenFOAM",
    "-lPstream",
    "-ldl",
    "-lm",
)
COMPILE_LIMITS = Limits(memory_bytes=3 * GIB // 2, processes=32, file_bytes=256 << 20, output_bytes=1 << 20)
"""g++ on one model: ~20 s of CPU and ~600 MB; 1.5 GiB and `COMPILE_SECONDS` bound a hostile source, and a
build stopped by them fails as one that does not compile, saying which limit (`ModelCompileError`)."""
COMPILE_SECONDS = 240.0
SOURCE_NAME = "model.C"
MAX_SOURCE_BYTES = 200_000
MAX_DIAGNOSTICS = 20

_DIAGNOSTIC = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<column>\d+):)? (?P<kind>fatal error|error|warning): (?P<message>.*)$",
    re.MULTILINE,
)
_LINKER = re.compile(r"^(?:/usr/bin/ld: |collect2: )(?P<message>.*)$", re.MULTILINE)
_EXHAUSTED = re.compile(
    r"virtual memory exhausted|out of memory|Cannot allocate memory|Killed signal terminated|CPU time limit exceeded"
)
"""What g++ says when a limit of its sandbox, not the source's C++, stopped it."""


@dataclass(frozen=True)
class Diagnostic:
    """One compiler or linker message about the candidate's source."""

    file: str
    line: int | None
    message: str
    kind: str = "error"

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.kind}: {self.message}"

    def as_dict(self) -> dict[str, str | int | None]:
        return {"file": self.file, "line": self.line, "kind": self.kind, "message": self.message}


class ModelCompileError(LabgateError):
    """The model's source did not compile (or link); `diagnostics` says where and why."""

    def __init__(self, summary: str, diagnostics: list[Diagnostic], output: str = "") -> None:
        self.summary = summary
        self.diagnostics = diagnostics
        self.output = output
        shown = "; ".join(item.render() for item in diagnostics[:5])
        super().__init__(f"{summary}: {shown}" if shown else summary)


def parse_diagnostics(output: str, workdir: Path) -> list[Diagnostic]:
    """The errors in g++'s output, paths inside the build folder shown relative to it.

    Errors come before warnings; notes and template back-traces are dropped (they repeat the error)."""
    prefix = str(workdir) + "/"
    found: list[Diagnostic] = []
    for match in _DIAGNOSTIC.finditer(output):
        file = match["file"].removeprefix(prefix)
        kind = "error" if match["kind"] != "warning" else "warning"
        found.append(Diagnostic(file, int(match["line"]), match["message"].strip()[:500], kind))
    for match in _LINKER.finditer(output):
        message = match["message"].strip()
        if message.startswith(prefix) or "undefined reference" in message or "ld returned" in message:
            found.append(Diagnostic("link", None, message.removeprefix(prefix)[:500]))
    found.sort(key=lambda item: item.kind != "error")
    return found[:MAX_DIAGNOSTICS]


def models_cache() -> Path:
    explicit = os.environ.get("LABGATE_MODEL_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labgate" / "openfoam-models"


COMPILE_PATH = "/usr/bin:/bin"
"""Where the compiler's sandbox finds `g++`; the build key names the compiler found there."""


def source_digest(source: str, headers: Path) -> str:
    """What identifies a build: the source, the whole compiler line, the compiler, the headers and the
    OpenFOAM libraries it was built against.

    A library cached under a key that left one of them out would be loaded after it changed (g++ or
    openfoam upgraded, the headers fetched again): built against another ABI, it would crash the
    solver or run another model, and the candidate would be judged for it."""
    key = "\0".join(
        [
            source,
            " ".join(COMPILE_FLAGS),
            " ".join(include_flags(headers)),
            " ".join(LINK_LIBRARIES),
            str(headers),
            _stamp(headers / ".complete"),
            _compiler_identity(),
            *(_stamp(library) for library in _linked_libraries()),
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()


def _compiler_identity() -> str:
    """g++'s version and target, as the `g++` the sandbox runs reports them ("none" without one): the one on
    `COMPILE_PATH`, not on labgate's own PATH, where another g++ (a wrapper, a newer toolchain) may come first."""
    compiler = shutil.which("g++", path=COMPILE_PATH)
    if compiler is None:
        return "g++: none"
    real = os.path.realpath(compiler)
    try:
        info = os.stat(real)
    except OSError as error:
        return f"g++: {compiler}: {error}"
    return _ask_compiler(real, info.st_size, info.st_mtime_ns)


@functools.cache
def _ask_compiler(compiler: str, size: int, mtime_ns: int) -> str:
    """What one compiler binary says it is; asked once per binary and version of it (size and time)."""
    answers = []
    for question in ("--version", "-dumpmachine"):
        try:
            result = subprocess.run([compiler, question], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError) as error:
            return f"g++: {compiler}: {error}"
        answers.append(f"{result.returncode}: {result.stdout.strip()}")
    return f"g++: {compiler}: {size}: {mtime_ns}: " + " | ".join(answers)


def _linked_libraries() -> list[Path]:
    """The OpenFOAM libraries a model links against, where `-L/usr/lib` finds them."""
    names = [flag.removeprefix("-l") for flag in LINK_LIBRARIES if flag.startswith("-l")]
    return [Path("/usr/lib") / f"lib{name}.so" for name in names if name not in ("dl", "m")]


def _stamp(path: Path) -> str:
    """A file's identity without reading it: where it resolves to, its size and modification time."""
    try:
        info = path.stat()
    except OSError:
        return f"{path}: absent"
    return f"{path}: {os.path.realpath(path)}: {info.st_size}: {info.st_mtime_ns}"


def _trusted_entry(library: Path) -> bool:
    """True when the cache holds a library at `library` that can be loaded as built: a regular file
    of its own (no link to elsewhere, no hard link shared with another file), an ELF object."""
    try:
        info = library.lstat()
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_uid != os.geteuid():
        return False
    try:
        with library.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


@dataclass(frozen=True)
class BuiltModel:
    library: Path
    digest: str
    cached: bool

    @property
    def file_name(self) -> str:
        return self.library.name


def build_model(source: str, *, cache: Path | None = None, timeout: float = COMPILE_SECONDS) -> BuiltModel:
    """The compiled library of `source`, from the cache or built now in the sandbox.

    Raises HeadersUnavailableError without the headers, ModelCompileError when the source does not build.
    """
    if len(source.encode()) > MAX_SOURCE_BYTES:
        raise ModelCompileError(f"the model source is larger than {MAX_SOURCE_BYTES} bytes", [])
    headers = require_headers()
    digest = source_digest(source, headers)
    root = cache or models_cache()
    library = root / digest[:2] / f"libmodel-{digest}.so"
    if _trusted_entry(library):
        return BuiltModel(library, digest, cached=True)
    library.parent.mkdir(parents=True, exist_ok=True)
    with _building(library):
        if _trusted_entry(library):  # built by another thread or process while this one waited
            return BuiltModel(library, digest, cached=True)
        return _build(source, headers, library, digest, root, timeout)


@contextlib.contextmanager
def _building(library: Path) -> Iterator[None]:
    """One build of a library at a time, across threads and processes: a search's first candidates often
    share a source, and builds writing one cache entry together failed on each other's temporary file or
    left a reader a half-written library."""
    with open(library.with_name(f".{library.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(source: str, headers: Path, library: Path, digest: str, root: Path, timeout: float) -> BuiltModel:
    if library.is_symlink() or library.exists():
        # Not what a build leaves (a link, a shared or foreign file, not a library): built again.
        remove_untrusted_tree(library)
    if shutil.which("g++", path=COMPILE_PATH) is None:
        raise ModelCompileError("no C++ compiler: install g++ (scripts/setup installs build-essential)", [])
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-", dir=root) as scratch:
        workdir = Path(scratch)
        try:
            sandbox = LocalSandbox(workdir=workdir, ro_paths=(headers,), limits=COMPILE_LIMITS)
        except SandboxError as error:
            raise ModelCompileError(f"cannot start the compiler's sandbox: {error}", []) from None
        try:
            sandbox.write_file(SOURCE_NAME, source)
            argv = [
                "g++",
                *COMPILE_FLAGS,
                *include_flags(headers),
                "-o",
                "model.so",
                SOURCE_NAME,
                *LINK_LIBRARIES,
            ]
            try:
                result = sandbox.exec(
                    argv, timeout=timeout, limits=COMPILE_LIMITS, env={"PATH": COMPILE_PATH, "LANG": "C"}
                )
            except SandboxTimeoutError:
                raise ModelCompileError(f"the compiler ran past {timeout:g} s", []) from None
            except SandboxError as error:
                raise ModelCompileError(f"the compiler was stopped: {error}", []) from None
            output = result.stdout + result.stderr
            built = workdir / "model.so"
            if result.returncode != 0 or not built.is_file() or built.is_symlink():
                diagnostics = parse_diagnostics(output, sandbox.workdir)
                summary = f"the model did not compile (g++ exited with {result.returncode})"
                if result.returncode < 0 or _EXHAUSTED.search(output):
                    memory = (COMPILE_LIMITS.memory_bytes or 0) / GIB
                    summary = (
                        f"the model did not compile: g++ ran out of its limits ({memory:g} GiB of memory, "
                        f"{timeout:g} s), so the source is too large or too deep to build"
                    )
                raise ModelCompileError(summary, diagnostics, output[-4000:])
            write_atomically(library, built.read_bytes())  # synced: no torn entry survives a crash as trusted
        finally:
            sandbox.close()
    return BuiltModel(library, digest, cached=False)
