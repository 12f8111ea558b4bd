"""Entries listed more than once, found in one pass (the check of a request's gate names was quadratic)."""

from __future__ import annotations

import pytest

from runs import TaskSpec
from tools import TaskError
from tools._gate_settings import check_gate_settings
from tools._repeated import listed_twice


def test_each_repeated_entry_is_named_once_in_order_of_first_listing() -> None:
    assert listed_twice(["b", "a", "b", "c", "a", "b"]) == ["b", "a"]
    assert listed_twice([]) == [] and listed_twice(["x", "y"]) == []


def test_a_task_listing_a_gate_many_times_is_refused_naming_it_once() -> None:
    names = ["".join(["physical", "-range"]) for _ in range(50_000)]  # equal strings, not one object
    task = TaskSpec(id="cfd/cavity", workload="cfd", gates=names)
    with pytest.raises(TaskError, match=r"gates listed more than once: physical-range(?!,)"):
        check_gate_settings(task, lambda name, options: dict(options))
