"""The CFD workload on OpenFOAM: case families, their reference data, figures and metrics."""

from tools.cfd._prose import CFD_PROSE_PATTERNS
from tools.cfd._workload import CfdSettings, CfdWorkload, case_definitions
from tools.cfd.cases._cavity import CavityParams, cavity_case
from tools.cfd.cases._cavity_metrics import (
    Centrelines,
    ghia_metrics,
    profiles_from_fields,
    profiles_from_samples,
    reader_disagreement,
)
from tools.cfd.cases._channel_task import (
    ChannelParams,
    analytic_profile,
    cell_profile,
    sampled_profile,
    wall_shear_from_cells,
)
from tools.cfd.cases._definition import CaseDefinition
from tools.cfd.cases._generic import REFERENCE_COPY, UserCaseParams
from tools.cfd.cases._generic_run import DERIVED_FIELDS
from tools.cfd.cases._hill import HillParams
from tools.cfd.cases._hill_metrics import bubble, cf_rmse, hill_wall, profile_rmse, velocity_profiles
from tools.cfd.cases._own_fields import FIELD_HEAD_BYTES, field_class
from tools.cfd.cases._plate_task import FlatPlateCase, PlateParams
from tools.cfd.cases._rans import SACoefficients
from tools.cfd.cases._reference import (
    GHIA_1982,
    HILL_DNS_REATTACHMENT,
    PITZ_DAILY_1983,
    XIAO_2020,
    ReferenceConditions,
    ReferenceProfile,
    ghia_conditions,
    ghia_profiles,
    ghia_reynolds_numbers,
    hill_conditions,
    step_conditions,
    step_reattachment_reference,
)
from tools.cfd.cases._solution import PRESSURES, VELOCITY, SolutionFields
from tools.cfd.cases._step_task import StepParams, reattachment, step_wall
from tools.cfd.cases._user_reference import (
    ReferenceComparison,
    ReferenceFormatError,
    ReferencePoint,
    compare_reference,
    parse_reference,
    read_reference,
)
from tools.cfd.openfoam._commands import OpenFOAMConfig
from tools.cfd.openfoam._fields import (
    FieldFormatError,
    FieldSizeError,
    FloatArray,
    RefusedOutputError,
    latest_time,
    mesh_cell_count,
    mesh_folder,
    parse_internal_field,
    parse_xy,
    read_cell_centres,
    read_field_text,
    read_internal_field,
    read_xy,
    time_directories,
    time_name_value,
)
from tools.cfd.openfoam._foamdict import FoamValueError
from tools.cfd.openfoam._foamread import FoamParseError
from tools.cfd.openfoam._logs import (
    SolverLog,
    SolverProgress,
    parse_progress,
    parse_solver_log,
    read_solver_log,
    read_solver_progress,
)
from tools.cfd.openfoam._patches import (
    mesh_patches,
    parse_boundary_values,
    patch_face_count,
    read_label_list,
    read_patch_field,
)
from tools.cfd.openfoam._relaxation import equation_relaxation
from tools.cfd.openfoam._wall import WallReading

__all__ = [
    "CFD_PROSE_PATTERNS",
    "DERIVED_FIELDS",
    "FIELD_HEAD_BYTES",
    "GHIA_1982",
    "HILL_DNS_REATTACHMENT",
    "PITZ_DAILY_1983",
    "PRESSURES",
    "REFERENCE_COPY",
    "VELOCITY",
    "XIAO_2020",
    "CaseDefinition",
    "CavityParams",
    "Centrelines",
    "CfdSettings",
    "CfdWorkload",
    "ChannelParams",
    "FieldFormatError",
    "FieldSizeError",
    "FlatPlateCase",
    "FloatArray",
    "FoamParseError",
    "FoamValueError",
    "HillParams",
    "OpenFOAMConfig",
    "PlateParams",
    "ReferenceComparison",
    "ReferenceConditions",
    "ReferenceFormatError",
    "ReferencePoint",
    "ReferenceProfile",
    "RefusedOutputError",
    "SACoefficients",
    "SolutionFields",
    "SolverLog",
    "SolverProgress",
    "StepParams",
    "UserCaseParams",
    "WallReading",
    "analytic_profile",
    "bubble",
    "case_definitions",
    "cavity_case",
    "cell_profile",
    "cf_rmse",
    "compare_reference",
    "equation_relaxation",
    "field_class",
    "ghia_conditions",
    "ghia_metrics",
    "ghia_profiles",
    "ghia_reynolds_numbers",
    "hill_conditions",
    "hill_wall",
    "latest_time",
    "mesh_cell_count",
    "mesh_folder",
    "mesh_patches",
    "parse_boundary_values",
    "parse_internal_field",
    "parse_progress",
    "parse_reference",
    "parse_solver_log",
    "parse_xy",
    "patch_face_count",
    "profile_rmse",
    "profiles_from_fields",
    "profiles_from_samples",
    "read_cell_centres",
    "read_field_text",
    "read_internal_field",
    "read_label_list",
    "read_patch_field",
    "read_reference",
    "read_solver_log",
    "read_solver_progress",
    "read_xy",
    "reader_disagreement",
    "reattachment",
    "sampled_profile",
    "step_conditions",
    "step_reattachment_reference",
    "step_wall",
    "time_directories",
    "time_name_value",
    "velocity_profiles",
    "wall_shear_from_cells",
]
