"""A user task's reference, computed inside a sandboxed worker of its own (never in the labgate host).

A task file's reference is code: a NumPy function in a `.py` file, or an OpenCL C kernel. The host
sends it, with one run's inputs, to a worker that only ever computes references (the candidate's
worker never sees it, so a candidate cannot tamper with what it is compared against). The worker
runs it and sends the outputs back in the wire dtypes the host compares in: float outputs as
float64 (or bit for bit in the declared dtype when the task is exact), integer outputs in the
declared dtype (so integer arithmetic wraps as the device's does).
"""

from __future__ import annotations

import hashlib
import inspect
import traceback
from typing import Any

import numpy as np

from runs import LabgateError
from tools.kernels._backend import Backend, KernelCompileError

_SCALARS = {"i32": "int32", "u32": "uint32", "f32": "float32"}
_MODULES: dict[str, dict[str, Any]] = {}
"""Namespaces of the reference modules this worker has run, by source digest (loaded once)."""


class ReferenceFailedError(LabgateError, ValueError):
    """The user's reference failed or returned something unusable; the message says what and where."""


def _user_frame(error: BaseException, filename: str) -> str:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == filename]
    return f" (line {frames[-1].lineno} of {filename})" if frames else ""


def _python_namespace(source: str, filename: str) -> dict[str, Any]:
    key = hashlib.sha256(source.encode()).hexdigest()
    namespace = _MODULES.get(key)
    if namespace is None:
        namespace = {"__name__": "labgate_reference", "__file__": filename}
        try:
            exec(compile(source, filename, "exec"), namespace)  # the sandboxed reference worker only
        except Exception as error:  # noqa: BLE001 - the user's module failed to load: report where
            raise ReferenceFailedError(
                f"{filename} failed to load: {type(error).__name__}: {error}{_user_frame(error, filename)}"
            ) from None
        _MODULES[key] = namespace
    return namespace


def _python(request: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    filename = str(request["filename"])
    namespace = _python_namespace(str(request["source"]), filename)
    function = namespace.get(str(request["function"]))
    if not callable(function):
        raise ReferenceFailedError(f"{filename} defines no function {request['function']!r}")
    arguments: dict[str, Any] = {**request["sizes"], **request["scalars"]}
    for spec in request["buffers"]:
        if spec["role"] in ("in", "inout"):
            data = np.array(arrays[spec["name"]], copy=True).reshape(tuple(spec["shape"]))
            data.flags.writeable = False
            arguments[spec["name"]] = data
    arguments = _accepted(function, arguments, filename)
    try:
        result = function(**arguments)
    except Exception as error:  # noqa: BLE001 - the user's function failed: report where
        raise ReferenceFailedError(
            f"{filename}: {request['function']}() raised {type(error).__name__}: {error}{_user_frame(error, filename)}"
        ) from None
    outputs = [str(spec["name"]) for spec in request["outputs"]]
    if not isinstance(result, dict):
        if len(outputs) != 1:
            raise ReferenceFailedError(
                f"{filename}: {request['function']}() must return a dict of the outputs {', '.join(outputs)}"
            )
        result = {outputs[0]: result}
    return result


def _python_with_backend(backend: Backend, request: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return _python(request, arrays)


def _accepted(function: Any, arguments: dict[str, Any], filename: str) -> dict[str, Any]:
    """The arguments `function` takes by name (all of them when it takes **kwargs); a name it needs but
    the task does not declare is a ReferenceFailedError."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return arguments
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return arguments
    named = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    missing = [
        p.name
        for p in parameters
        if p.name in named and p.default is inspect.Parameter.empty and p.name not in arguments
    ]
    if missing:
        raise ReferenceFailedError(
            f"{filename}: {function.__name__}() takes {', '.join(missing)}, which the task does not declare "
            f"(it passes {', '.join(arguments)})"
        )
    return {name: value for name, value in arguments.items() if name in named}


def _opencl(backend: Backend, request: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    filename = str(request["filename"])
    try:
        program = backend.compile(str(request["source"]), {k: int(v) for k, v in request["defines"].items()})
    except KernelCompileError as error:
        raise ReferenceFailedError(f"{filename} does not compile: {error.log}") from None
    buffers: dict[str, Any] = {}
    try:
        for spec in request["buffers"]:
            dtype = np.dtype(str(spec["dtype"]))
            nbytes = int(spec["count"]) * dtype.itemsize
            buffers[spec["name"]] = backend.alloc(nbytes)
            data = arrays.get(spec["name"])
            initial = np.zeros(nbytes, np.uint8) if data is None else np.ascontiguousarray(data).view(np.uint8)
            if nbytes:
                backend.write(buffers[spec["name"]], initial)
        events = []
        for launch in request["launches"]:
            args = []
            for arg in launch["args"]:
                ((kind, value),) = arg.items()
                args.append(buffers[str(value)] if kind == "buf" else np.dtype(_SCALARS[kind]).type(value))
            local = tuple(launch["local"]) if launch["local"] else None
            events.append(backend.launch(program, str(launch["kernel"]), tuple(launch["global"]), local, args))
        backend.elapsed(events)
        result = {}
        for spec in request["outputs"]:
            out = np.empty(int(spec["count"]), np.dtype(str(spec["dtype"])))
            if out.size:
                backend.read(buffers[spec["name"]], out)
            result[str(spec["name"])] = out
        return result
    finally:
        backend.release()


def _wire(name: str, value: Any, spec: dict[str, Any], exact: bool, filename: str) -> np.ndarray:
    """One output as the host compares it; ReferenceFailedError when its size or kind is wrong."""
    try:
        data = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - whatever the function returned, say what it was
        raise ReferenceFailedError(f"{filename}: output {name} is not an array ({error})") from None
    if data.size != int(spec["count"]):
        raise ReferenceFailedError(
            f"{filename}: output {name} has {data.size} elements; its declared shape {spec['shape']} "
            f"holds {spec['count']}"
        )
    declared = np.dtype(str(spec["dtype"]))
    if data.dtype.kind not in "biufc":
        raise ReferenceFailedError(f"{filename}: output {name} holds {data.dtype} values, not numbers")
    shape = tuple(int(n) for n in spec["shape"])
    if data.ndim > 1 and data.shape != shape:
        raise ReferenceFailedError(
            f"{filename}: output {name} has shape {data.shape}; its declared shape is {shape} (return it flat or "
            "in the declared shape: the same elements in another arrangement would be compared out of place)"
        )
    if declared.kind in "iu" and data.dtype.kind in "fc":
        _whole_numbers(name, data, declared, filename)
    wire: np.dtype[Any] = declared
    if declared.kind == "c":
        wire = np.dtype(np.complex64)
    elif declared.kind == "f" and not exact:
        wire = np.dtype(np.float64)
    return np.ascontiguousarray(data.reshape(-1).astype(wire, copy=False))


def _whole_numbers(name: str, data: np.ndarray, declared: np.dtype[Any], filename: str) -> None:
    """Float values for an integer output must be whole numbers the dtype holds.

    Casting was silent: `x / 2` for an int32 output truncated toward zero, NaN and values beyond the
    dtype became whatever the cast gave, and the kernel was judged against that.
    """
    if data.dtype.kind == "c":
        raise ReferenceFailedError(f"{filename}: output {name} is {declared} but the reference returned complex values")
    flat = data.reshape(-1)
    info = np.iinfo(declared)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(flat) | (flat != np.trunc(flat)) | (flat < info.min) | (flat > info.max)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ReferenceFailedError(
            f"{filename}: output {name} is {declared} but the reference returned {float(flat[first])!r} at element "
            f"{first} ({int(np.count_nonzero(bad))} values that are not whole {declared} numbers); round or "
            "cast in the reference"
        )


def run_reference(
    backend: Backend, request: dict[str, Any], arrays: dict[str, np.ndarray]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The reference's outputs for one run's inputs, or a reply saying why there are none."""
    try:
        run = _opencl if request.get("kind") == "opencl" else _python_with_backend
        result = run(backend, request, arrays)
        filename = str(request["filename"])
        payload = {}
        for spec in request["outputs"]:
            name = str(spec["name"])
            if name not in result:
                raise ReferenceFailedError(f"{filename}: the result has no output {name!r}")
            payload[name] = _wire(name, result[name], spec, bool(request.get("exact")), filename)
    except ReferenceFailedError as failure:
        return {"ok": False, "stage": "reference", "error": str(failure)}, {}
    return {"ok": True}, payload
