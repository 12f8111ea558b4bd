"""The kernel workload: a suite of scientific kernels (or one from a task file), a sandboxed OpenCL/CUDA
harness, device ceilings."""

from tools.kernels._backend import Backend, DeviceInfo, KernelCompileError, KernelLaunchError
from tools.kernels._ceilings import Ceilings, default_cache_dir
from tools.kernels._client import Worker, WorkerCrashedError, WorkerTimeoutError, worker_ro_paths
from tools.kernels._definition import KernelDefinition, read_definition_files
from tools.kernels._harness import Evaluation, Harness, SizeResult, source_digest
from tools.kernels._session import ceilings_record, kernel_task, open_harness
from tools.kernels._task import Candidate, CandidateError, KernelTask, Size, Work, with_params
from tools.kernels._user_task import UserKernelTask, user_kernel_task
from tools.kernels._workload import (
    GATES,
    MAX_EVALUATIONS,
    MAX_STARTS,
    KernelSearchParams,
    KernelsWorkload,
    parse_params,
    search_budget,
    write_evaluation_files,
)
from tools.kernels.suite import SUITE

__all__ = [
    "GATES",
    "MAX_EVALUATIONS",
    "MAX_STARTS",
    "SUITE",
    "Backend",
    "Candidate",
    "CandidateError",
    "Ceilings",
    "DeviceInfo",
    "Evaluation",
    "Harness",
    "KernelCompileError",
    "KernelDefinition",
    "KernelLaunchError",
    "KernelSearchParams",
    "KernelTask",
    "KernelsWorkload",
    "Size",
    "SizeResult",
    "UserKernelTask",
    "Work",
    "Worker",
    "WorkerCrashedError",
    "WorkerTimeoutError",
    "ceilings_record",
    "default_cache_dir",
    "kernel_task",
    "open_harness",
    "parse_params",
    "read_definition_files",
    "search_budget",
    "source_digest",
    "user_kernel_task",
    "with_params",
    "worker_ro_paths",
    "write_evaluation_files",
]
