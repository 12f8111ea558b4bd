"""The CFD workload on OpenFOAM: case families, their reference data, figures and metrics."""

from tools.cfd._cavity import CavityParams, cavity_case
from tools.cfd._cavity_metrics import (
    Centrelines,
    ghia_metrics,
    profiles_from_fields,
    profiles_from_samples,
    reader_disagreement,
)
from tools.cfd._fields import (
    FieldFormatError,
    RefusedOutputError,
    latest_time,
    parse_internal_field,
    parse_xy,
    read_internal_field,
    read_xy,
    time_directories,
)
from tools.cfd._foamdict import FoamValueError
from tools.cfd._logs import SolverLog, parse_solver_log, read_solver_log
from tools.cfd._openfoam import OpenFOAMConfig
from tools.cfd._reference import GHIA_1982, ReferenceProfile, ghia_profiles, ghia_reynolds_numbers
from tools.cfd._workload import CfdWorkload, case_definitions

__all__ = [
    "GHIA_1982",
    "CavityParams",
    "Centrelines",
    "CfdWorkload",
    "FieldFormatError",
    "FoamValueError",
    "OpenFOAMConfig",
    "ReferenceProfile",
    "RefusedOutputError",
    "SolverLog",
    "case_definitions",
    "cavity_case",
    "ghia_metrics",
    "ghia_profiles",
    "ghia_reynolds_numbers",
    "latest_time",
    "parse_internal_field",
    "parse_solver_log",
    "parse_xy",
    "profiles_from_fields",
    "profiles_from_samples",
    "read_internal_field",
    "read_solver_log",
    "read_xy",
    "reader_disagreement",
    "time_directories",
]
