"""The shape of a kernel task file's `params.definition`, and the files it names beside the task file.

See `_user_task` for what each field means to the harness; this module only says what is well-formed
and reads the reference and seed files into the definition when a task file is loaded.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from runs import UntrustedFileError, read_untrusted_path
from tools._workload import TaskError

FIELD = "params.definition"
DTYPES = ("float32", "float64", "int32", "uint32", "int8", "uint8")
"""Buffer dtypes a definition may declare: those the worker protocol carries (complex values excepted)."""
MAX_FILE_BYTES = 1 << 20


class Distribution(BaseModel):
    """How one input buffer is drawn (exactly one field): `uniform: [low, high]`, `normal: [mean, std]`,
    or `integers: [low, high]` (both ends included)."""

    model_config = ConfigDict(extra="forbid")

    uniform: tuple[float, float] | None = None
    normal: tuple[float, float] | None = None
    integers: tuple[int, int] | None = None


class ArgDefinition(BaseModel):
    """One kernel argument: a buffer (`dtype`, `shape`, `role`, `init`) or a scalar (`value`, optional `range`).

    A scalar with `range: [low, high]` is drawn afresh in that range (whole numbers for i32/u32) for every
    size of every run, and `value` is only its default: a scalar that never varied was a constant a
    kernel could hard-code and still pass every check.

    A float input buffer with `scale_free: true` is one the outputs are linear in (together with the other
    scale-free ones): the held-out gate also draws it 10^3 to 10^8 times larger and smaller, with the
    tolerance's `atol` scaled alike (`KernelTask.scale_free_inputs`).
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    type: Literal["buffer", "i32", "u32", "f32"]
    dtype: str | None = None
    shape: str | int | list[str | int] | None = None
    role: Literal["in", "out", "inout", "scratch"] | None = None
    init: Distribution | None = None
    value: str | int | float | None = None
    range: tuple[float, float] | None = None
    scale_free: bool = False


class LaunchDefinition(BaseModel):
    """One kernel launch: its grid (expressions of sizes and tunables) and argument names (default: all)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kernel: str
    global_size: list[str | int] = Field(alias="global", min_length=1, max_length=3)
    local: list[str | int] | None = None
    args: list[str] | None = None


class Tolerance(BaseModel):
    """Element-wise |got - want| <= atol + rtol * |want|."""

    model_config = ConfigDict(extra="forbid")

    # Finite: an infinite tolerance would accept every output, NaN none (and both read as a number).
    rtol: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    atol: float = Field(default=0.0, ge=0, allow_inf_nan=False)


class WorkDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bytes: str | int | float
    flops: str | int | float


class KernelDefinition(BaseModel):
    """`params.definition` of a user kernel task (see the module docstring and README)."""

    model_config = ConfigDict(extra="forbid")

    title: str = ""
    contract: str = Field(min_length=1)
    regime: Literal["memory", "compute"] = "memory"
    dims: list[str] = Field(min_length=1, max_length=4)
    # Strict: `n: true` was read as n = 1, and "4096" as a number.
    sizes: dict[str, dict[str, StrictInt]] = Field(min_length=1, max_length=8)
    heldout: dict[str, dict[str, StrictInt | tuple[StrictInt, StrictInt]]] = Field(min_length=1, max_length=8)
    args: list[ArgDefinition] = Field(min_length=1, max_length=32)
    launches: list[LaunchDefinition] = Field(min_length=1, max_length=16)
    tunables: dict[str, list[int]] = Field(default_factory=dict)
    tolerance: Literal["exact"] | Tolerance
    work: WorkDefinition
    reference: str
    function: str = "reference"
    seed: str
    whole_variants: bool = False
    files: dict[str, str] = Field(
        default_factory=dict,
        description="texts of the reference and seed files by name; read from beside the task file when it is loaded",
    )


def field_error(where: str, message: str) -> TaskError:
    return TaskError(f"{FIELD}.{where}: {message}")


def _beside(directory: Path, name: str, where: str) -> Path:
    """The file `name` in the task file's folder, or a TaskError when it would be read from elsewhere.

    A task file names its reference and seed relative to itself; an absolute name or one with `..` (or a
    link leading out of the folder) read any `.py` or `.cl` file the user could read into the recorded
    run, where the report, the API and every later judge see its text.
    """
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or "\\" in name:
        raise field_error(where, f"{name!r} must name a file in the task file's folder (no absolute path, no ..)")
    path = directory / relative
    try:
        inside = path.resolve().is_relative_to(directory.resolve())
    except (OSError, RuntimeError) as error:
        raise field_error(where, f"cannot resolve {path}: {error}") from None
    if not inside:
        raise field_error(where, f"{path} leads outside the task file's folder {directory}")
    return path


def _text_file(directory: Path, name: str, where: str) -> str:
    path = _beside(directory, name, where)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise field_error(where, f"{path} is larger than {MAX_FILE_BYTES} bytes")
        # Only a regular file: a FIFO named here blocked the run forever.
        return read_untrusted_path(path, max_bytes=MAX_FILE_BYTES).decode()
    except UntrustedFileError as error:
        raise field_error(where, f"cannot read {path}: {error.reason}") from None
    except FileNotFoundError:
        raise field_error(where, f"{path} does not exist (files are read from beside the task file)") from None
    except UnicodeDecodeError:
        raise field_error(where, f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise field_error(where, f"cannot read {path}: {error.strerror or error}") from None


def read_definition_files(params: dict[str, Any], directory: Path) -> dict[str, Any]:
    """`params` with the reference and seed files a definition names read in from `directory`.

    The texts go into `definition.files`, so the recorded task holds exactly what was judged and its
    gates can re-run it anywhere. Parameters without a definition (the suite's tasks) pass unchanged.
    """
    definition = params.get("definition")
    if not isinstance(definition, dict):
        return params
    files = dict(definition.get("files") or {})
    for key, suffixes in (("reference", (".py", ".cl")), ("seed", (".cl",))):
        name = definition.get(key)
        if isinstance(name, str) and name.endswith(suffixes) and name not in files:
            files[name] = _text_file(directory, name, key)
    return {**params, "definition": {**definition, "files": files}}
