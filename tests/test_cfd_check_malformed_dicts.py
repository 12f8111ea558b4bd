"""`agent check` on a case whose dictionaries hold a shape their readers do not expect: one clear error, exit 2.

A red-team pass had six one-line edits of the stock cavity end in a traceback (IndexError, AttributeError):
an empty lid value, an empty list as the lid value, an empty vertex, a boundaryField that is a list, an
empty endTime or nu. And `endTime (1 2);`, which OpenFOAM refuses, was read as 2. The case need not have
been run: each is refused while its parameters are read, before any tool runs. The same pass found
`--param` values silently replaced by the case's own; one the case holds otherwise is now refused.
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


def test_a_parameter_the_case_holds_otherwise_is_refused_not_replaced(tmp_path: Path) -> None:
    """`--param re=400 --param cells=64` on a case of Re 10 on 20x20 cells was judged as that case, saying nothing;
    the values the case holds itself pass (a number as written or as a float)."""
    case = _tutorial("icoFoam/cavity/cavity", tmp_path / "cavity")
    home = tmp_path / "home"
    refused = agent("check", "cfd/cavity", str(case), "--param", "re=400", "--param", "cells=64", home=home)
    assert refused.returncode == 2, refused.stdout[-500:]
    assert refused.stderr.strip() == (
        "agent: error: --param re=400 but the result holds re=10.0; cells=64 but the result holds cells=20: "
        "a result is judged as it stands, with its own parameters"
    )
    spelled = agent("check", "cfd/cavity", str(case), "--param", "Re=400", home=home)  # `re`, as overrides read it
    assert spelled.returncode == 2 and "re=400 but the result holds re=10.0" in spelled.stderr, spelled.stderr
    held = agent("check", "cfd/cavity", str(case), "--json", "--param", "re=10", "--param", "cells=20.0", home=home)
    assert held.returncode == 1 and "--param" not in held.stderr, held.stderr  # judged: no results, so no accept
