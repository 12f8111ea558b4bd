"""`libs` in a user's case: OpenFOAM's own installed libraries load, nothing else does.

Before, any `libs` outside the controlDict refused the whole case, and the controlDict's own `libs` were
dropped: 41 of the 381 stock tutorials (damBreak among them, for its `sampling` function object) could not
be run at all. A case's own code must still never load: a path, a variable, a name no installed OpenFOAM
library answers to, or a system library that is not OpenFOAM's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import within_seconds
from tests.stock_cases import EXAMPLES, rerun_stock_case
from tools import TaskError
from tools.cfd.cases._generic_control import refuse_code, solve_control, stripped
from tools.cfd.openfoam._foamread import parse_foam_dict
from tools.cfd.openfoam._libraries import OPENFOAM_LIBRARIES, installed_library, refused_library_names

CODE_WORDS = ("#codeStream", "#calc", "coded", "systemCall")


@pytest.fixture
def libraries() -> None:
    if not (OPENFOAM_LIBRARIES / "libOpenFOAM.so").is_file():
        pytest.skip(f"OpenFOAM's libraries are not installed in {OPENFOAM_LIBRARIES} (./scripts/setup)")


def _case(root: Path) -> Path:
    for folder in ("system", "constant", "0"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "system" / "controlDict").write_text("application icoFoam;\nendTime 0.5;\ndeltaT 0.005;\n")
    (root / "0" / "U").write_text("internalField uniform (0 0 0);\n")
    return root


@pytest.mark.parametrize(
    "entry",
    [
        "libs (sampling);",
        'libs ("libfieldFunctionObjects.so");',
        "libs 2(overset fvMotionSolvers);",
        '"libs" 1{"libsampling.so"};',
        "libs ();",
        'probe { type probes; libs    ("libsampling.so"); fields (p); }',
    ],
)
def test_openfoams_own_libraries_named_plainly_are_allowed(libraries: None, tmp_path: Path, entry: str) -> None:
    case = _case(tmp_path / "case")
    (case / "system" / "sampling").write_text(entry + "\n")
    refuse_code(case)


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ('libs ("$FOAM_CASE/constant/x.so");', "$FOAM_CASE/constant/x.so"),
        ('libs ("/usr/lib/libsampling.so");', "/usr/lib/libsampling.so"),  # a path, even to a real one
        ('libs (sampling "libmine.so");', "libmine.so"),
        ('libs ("libsampling.so.1");', "libsampling.so.1"),
        ("libs 1{../x.so};", "../x.so"),
        ("mine (x.so); libs $mine;", "an entry that is not a list of names"),
        ('libs #include "list";', "an entry that is not a list of names"),
        ("libs ((sampling));", "an entry that is not a list of names"),
        # OpenFOAM reads a quoted pattern matching `libs` as `libs`: before, `"li[b]s" (...)` passed the filter
        # and the solver tried to load an absolute path
        ('"li[b]s" ("libmine.so" "/tmp/x.so");', "/tmp/x.so"),
        ('".*" ("libmine.so");', "libmine.so"),
        ('"l.bs" 1{"libmine.so"};', "libmine.so"),
        ('"(libs|other)" $mine;', "an entry that is not a list of names"),
        # Patterns labgate does not evaluate count as `libs`: 1,500 nested parentheses were a traceback
        # (RecursionError), 400 `.*` a scan without end, in a notes file OpenFOAM never reads.
        ('"' + "(" * 1500 + "libs" + ")" * 1500 + '" ("libmine.so");', "an entry that is not a list of names"),
        ('"' + ".*" * 400 + 'x" ("libmine.so");', "libmine.so"),
    ],
)
def test_libs_naming_anything_else_is_refused_naming_it(
    libraries: None, tmp_path: Path, entry: str, named: str
) -> None:
    case = _case(tmp_path / "case")
    (case / "constant" / "fvOptions").write_text(entry + "\n")
    with within_seconds(30), pytest.raises(TaskError, match="refused: constant/fvOptions uses 'libs' naming") as caught:
        refuse_code(case)
    assert named in str(caught.value)


def test_a_library_is_openfoams_only_when_it_is_the_core_or_links_it(tmp_path: Path) -> None:
    """A library folder shared with other software: only OpenFOAM's libraries count, and only real ELF files."""
    (tmp_path / "libOpenFOAM.so").write_bytes(b"\x7fELF" + bytes(64))
    (tmp_path / "libsolver.so").write_bytes(b"\x7fELF" + bytes(16) + b"libOpenFOAM.so\x00" + bytes(16))
    (tmp_path / "libother.so").write_bytes(b"\x7fELF" + bytes(16) + b"libz.so.1\x00" + bytes(16))
    (tmp_path / "libtext.so").write_bytes(b"INPUT(libOpenFOAM.so\x00)")
    assert refused_library_names(["OpenFOAM", "solver", "libsolver.so"], tmp_path) == []
    assert refused_library_names(["other", "text", "missing"], tmp_path) == ["other", "text", "missing"]
    assert installed_library("libOpenFOAM.so.1", tmp_path) is None


def test_the_controldicts_libs_are_kept_only_when_all_are_openfoams(libraries: None) -> None:
    """Boundary conditions and function objects of optional libraries need their library loaded."""
    kept = parse_foam_dict('application icoFoam; endTime 1; deltaT 0.1; libs (sampling "libfieldFunctionObjects.so");')
    text, _ = solve_control(kept, "icoFoam", end_time=None, functions={})
    assert parse_foam_dict(text)["libs"] == ['"libsampling.so"', '"libfieldFunctionObjects.so"']
    assert not any("libs" in note for note in stripped(kept))
    for listed in ('(sampling "libmine.so")', '("$FOAM_CASE/x.so")', "$mine", "2(a b)"):
        dropped = parse_foam_dict(f"application icoFoam; endTime 1; deltaT 0.1; libs {listed};")
        text, _ = solve_control(dropped, "icoFoam", end_time=None, functions={})
        assert "libs" not in parse_foam_dict(text) and "libmine" not in text and "FOAM_CASE" not in text
        assert any("libs: not loaded" in note for note in stripped(dropped)), listed


@pytest.mark.slow
def test_every_stock_tutorial_passes_the_scan_unless_it_carries_code(libraries: None) -> None:
    """The scan refuses stock tutorials only for constructs that compile or run code, never for `libs`."""
    cases = sorted({path.parent.parent for path in EXAMPLES.rglob("system/controlDict")})
    if not cases:
        pytest.skip(f"the OpenFOAM tutorials are not installed in {EXAMPLES} (apt-get install openfoam-examples)")
    refused: dict[str, str] = {}
    for case in cases:
        try:
            refuse_code(case)
        except TaskError as error:
            refused[str(case.relative_to(EXAMPLES))] = str(error)
    assert all(any(f"uses '{word}" in reason for word in CODE_WORDS) for reason in refused.values()), refused
    assert len(refused) < len(cases) // 10, refused


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_the_stock_dam_break_runs_with_its_sampling_library(libraries: None, home: Path, tmp_path: Path) -> None:
    """interFoam's damBreak: setFields, a VOF solver, and `libs (sampling)` in its sampling dictionary."""
    relative = "multiphase/interFoam/laminar/damBreak/damBreak"
    _, _, verdicts = rerun_stock_case(relative, home, tmp_path, "end_time=0.02")
    assert verdicts["deliverables"]["decision"] == "accept", verdicts["deliverables"]["reasons"]
    assert verdicts["physical-range"]["decision"] == "accept", verdicts["physical-range"]["reasons"]
    logs = list(home.rglob("log.interFoam")) + list(home.rglob("log.setFields"))
    assert {log.name for log in logs} == {"log.interFoam", "log.setFields"}
    assert all("End" in log.read_text() for log in logs)


@pytest.mark.parametrize(
    "entry",
    ['".*" 1;', '"(U|k|epsilon)" { solver PCG; }', '".*" { $U; }', '"(region0_to.*)\\" {};'],
)
def test_patterns_that_cannot_be_a_list_of_libraries_are_left_alone(
    libraries: None, tmp_path: Path, entry: str
) -> None:
    case = _case(tmp_path / "case")
    (case / "system" / "fvSolution").write_text(entry + "\n")
    refuse_code(case)


@pytest.mark.parametrize("kind", ["scalar", "vector", "sphericalTensor", "symmTensor", "tensor"])
def test_every_typed_coded_source_is_refused(tmp_path: Path, kind: str) -> None:
    """Got through before: the scan knew `coded...` types only, not fvOptions' `<type>CodedSource`."""
    case = _case(tmp_path / "case")
    (case / "constant" / "fvOptions").write_text(f"heat {{ type {kind}CodedSource; selectionMode all; }}\n")
    with pytest.raises(TaskError, match=f"uses '{kind}CodedSource'"):
        refuse_code(case)


def test_words_that_merely_contain_coded_are_not_code(tmp_path: Path) -> None:
    case = _case(tmp_path / "case")
    (case / "system" / "notes").write_text('comment "hardcoded values, decoded later";\n')
    refuse_code(case)
