"""The fast lane's guard: a run names every test that took too long without the `slow` mark."""

from __future__ import annotations

import pytest

INI = """
[pytest]
slow_seconds = 0.3
markers =
    slow: takes long
"""

CONFTEST = """
from tests.conftest import pytest_addoption, pytest_configure
"""

TESTS = """
import time

import pytest


def test_quick():
    pass


def test_unmarked_and_long():
    time.sleep(0.4)


@pytest.mark.slow
def test_marked_and_long():
    time.sleep(0.4)


@pytest.fixture(scope="module")
def slow_start():
    time.sleep(0.4)


def test_first_user_of_a_slow_fixture(slow_start):
    pass


def test_second_user_of_a_slow_fixture(slow_start):
    pass
"""


def test_the_summary_names_long_tests_not_marked_slow(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_lane=TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=5)
    assert result.ret == 0, "the warning must not fail the run"
    result.stdout.fnmatch_lines(["*2 test(s) took 0.3 s or more, not marked slow*"])
    warnings = [line for line in result.stdout.lines if line.startswith("WARNING ")]
    named = sorted(line.split()[2].rstrip(":") for line in warnings)
    assert named == ["test_lane.py::test_first_user_of_a_slow_fixture", "test_lane.py::test_unmarked_and_long"]


def test_no_summary_when_every_long_test_is_marked(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_lane="import pytest, time\n\n@pytest.mark.slow\ndef test_long():\n    time.sleep(0.4)\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "not marked slow" not in result.stdout.str()
