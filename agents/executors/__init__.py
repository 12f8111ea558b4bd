"""Executors: where experiments run (a local thread pool by default, a Ray cluster to scale out)."""

from agents.executors._base import Executor, ExecutorError
from agents.executors._local import LocalExecutor

__all__ = ["Executor", "ExecutorError", "LocalExecutor", "RayExecutor"]


def __getattr__(name: str) -> object:
    if name == "RayExecutor":  # Ray is optional and heavy: imported only when asked for
        from agents.executors._ray import RayExecutor

        return RayExecutor
    raise AttributeError(name)
