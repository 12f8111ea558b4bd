"""`agent check` on a case whose dictionaries hold a shape their readers do not expect: one clear error, exit 2.

A red-team pass had six one-line edits of the stock cavity end in a traceback (IndexError, AttributeError):
an empty lid value, an empty list as the lid value, an empty vertex, a boundaryField that is a list, an
empty endTime or nu. And `endTime (1 2);`, which OpenFOAM refuses, was read as 2. The case need not have
been run: each is refused while its parameters are read, before any tool runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import agent
from tests.test_cfd_reproduction import _cavity
from tests.test_check_stock_cases import _tutorial

pytestmark = [pytest.mark.openfoam, pytest.mark.usefixtures("openfoam", "bubblewrap")]

EDITS = {
    "an empty lid value": ("0/U", r"uniform \(1 0 0\)", "uniform ()", "0/U on movingWall: the value is empty"),
    "an empty list as the lid value": (
        "0/U",
        r"uniform \(1 0 0\)",
        "nonuniform List<vector> 0()",
        "0/U on movingWall: the value is empty",
    ),
    "an empty vertex": ("system/blockMeshDict", r"\(0 0 0\)", "()", "blockMeshDict: vertex 0 is not (x y z)"),
    "a vertex of words": ("system/blockMeshDict", r"\(0 0 0\)", "(a 0 0)", "blockMeshDict: vertex 0 is not (x y z)"),
    "a boundaryField that is a list": (
        "0/U",
        r"boundaryField\s*\{[\s\S]*\}\s*(?=//)",
        "boundaryField ( a b );\n",
        "0/U gives no value on patch 'movingWall'",
    ),
    "an empty endTime": ("system/controlDict", r"endTime\s+[^;]*;", "endTime ();", "endTime"),
    "a list for endTime": ("system/controlDict", r"endTime\s+[^;]*;", "endTime (1 2);", "endTime"),
    "an empty nu": ("constant/transportProperties", r"nu\s+[^;]*;", "nu ();", "nu [] is a list, not a number"),
    "a list for nu": ("constant/transportProperties", r"nu\s+[^;]*;", "nu (1 2);", "is a list, not a number"),
}


CHECKS = [("cfd/cavity", edit) for edit in sorted(EDITS)] + [
    # A user's case takes its lid, mesh and viscosity from OpenFOAM's run; labgate reads its controlDict.
    ("cfd/case", edit)
    for edit in sorted(EDITS)
    if EDITS[edit][0] == "system/controlDict"
]


@pytest.mark.parametrize(("task", "edit"), CHECKS)
def test_a_malformed_dictionary_is_one_clear_error(tmp_path: Path, task: str, edit: str) -> None:
    relative, pattern, replacement, named = EDITS[edit]
    if task == "cfd/case":
        case = _cavity(tmp_path / "cavity", end_time="0.05", write_interval="10")  # its results are read
    else:
        case = _tutorial("icoFoam/cavity/cavity", tmp_path / "cavity")  # refused before any result is read
    path = case / relative
    text, count = re.subn(pattern, replacement, path.read_text(), count=1)
    assert count == 1, f"{pattern!r} not in {relative}"
    path.write_text(text)
    result = agent("check", task, str(case), "--json", home=tmp_path / "home", timeout=120)
    assert result.returncode == 2, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr and result.stderr.startswith("agent: error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and named in result.stderr, result.stderr
