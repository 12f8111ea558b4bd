"""Compiled turbulence models: OpenFOAM headers, the sandboxed builder and the SA correction family."""

from tools.cfd.models._attach import model_coefficients, with_compiled_model
from tools.cfd.models._build import (
    COMPILE_LIMITS,
    BuiltModel,
    Diagnostic,
    ModelCompileError,
    build_model,
    models_cache,
    parse_diagnostics,
    source_digest,
)
from tools.cfd.models._family import FEATURES, MODEL_NAME, describe_form, family_source, source_diff
from tools.cfd.models._headers import HeadersUnavailableError, headers_available, headers_root, require_headers

__all__ = [
    "COMPILE_LIMITS",
    "FEATURES",
    "MODEL_NAME",
    "BuiltModel",
    "Diagnostic",
    "HeadersUnavailableError",
    "ModelCompileError",
    "build_model",
    "describe_form",
    "family_source",
    "headers_available",
    "headers_root",
    "model_coefficients",
    "models_cache",
    "parse_diagnostics",
    "require_headers",
    "source_diff",
    "source_digest",
    "with_compiled_model",
]
