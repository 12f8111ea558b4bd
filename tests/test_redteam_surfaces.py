"""Untrusted input outside the proof and kernel gates, as an attacker writes it: a user's OpenFOAM case that
smuggles in code or hurts labgate's own reader, a proposal naming another file of the machine, a REST client
naming files of the server, hostile text and artifact names on the dashboard and in archives, and task files
built to hurt the loader. Each case here was tried against labgate; the ones that got through before say so
in their docstring or comment, the others pin down refusals that already held.
"""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from agents._policy import BuiltinRevisionPolicy, JudgedExperiment, LLMProposal, LLMRevisionPolicy
from api._settings import Settings
from runs import ExperimentSpec, GateResult, RunStore, TaskSpec
from sandboxes import LocalSandbox
from tests.api_server import served_client
from tests.conftest import agent, require_tool
from tools import ExperimentOutcome, TaskError
from tools.cfd import CfdWorkload
from tools.cfd.cases import _generic_control
from tools.cfd.cases._generic_control import pin_settings, refuse_code
from tools.cfd.cases._generic_speed import imposed_speed
from tools.cfd.openfoam._commands import CaseStep, OpenFOAMConfig, run_steps
from tools.cfd.openfoam._foamread import FoamParseError, parse_foam_dict
from verifiers import GateContext, get_gate, run_gate

HEADER = "quantity,x,y,z,value,tolerance\n"


def _case(root: Path) -> Path:
    for folder in ("system", "constant", "0"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "system" / "controlDict").write_text("application icoFoam;\nendTime 0.5;\ndeltaT 0.005;\n")
    (root / "0" / "U").write_text("// hard-coded inlet\ninternalField uniform (0 0 0);\n")
    (root / "constant" / "transportProperties").write_text('nu 0.01; note "see http://example.org/nu";\n')
    return root


# -- code smuggled into a user's case ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        # Got through before: `libs` was looked for only at the start of a line; fvOptions loads it (`fv::option::New`).
        ("constant/fvOptions", 'evil { type scalarSemiImplicitSource; libs ("$FOAM_CASE/constant/x.so"); }'),
        ("system/fvOptions", 'evil { type vectorSemiImplicitSource; "libs" ("x.so"); }'),
        ("constant/fvOptions", "evil { type x; libs 1{x.so}; }"),
        # Got through before: `//` inside a string was taken for a comment, hiding the rest of the line.
        ("constant/transportProperties", 'note "//"; nu #codeStream { code #{ os << 1; #}; };'),
        ("0/U", 'a "http://x"; boundaryField { lid { type codedFixedValue; name x; } }'),
        # A quote inside a verbatim block must not start a string that swallows what follows.
        ("constant/transportProperties", 'a #{ " #}; nu #calc "1"; b #{ " #};'),
        # Got through before: polyMesh was never scanned, yet its boundary dictionary takes directives.
        ("constant/polyMesh/boundary", "1 ( lid { type patch; nFaces #codeStream { code #{ os << 1; #}; }; } )"),
    ],
)
def test_code_hidden_from_the_scanner_is_refused(tmp_path: Path, relative: str, text: str) -> None:
    case = _case(tmp_path / "case")
    refuse_code(case)  # the honest case, with `//` in a string and a comment saying "hard-coded"
    (case / relative).parent.mkdir(parents=True, exist_ok=True)
    (case / relative).write_text(text)
    with pytest.raises(TaskError, match=f"refused: {relative} uses"):
        refuse_code(case)


@pytest.mark.parametrize("relative", ["constant/evil.so", "0/T.orig", "constant/polyMesh/faces", "log.icoFoam"])
def test_a_compiled_library_in_the_case_is_refused_whatever_its_name(tmp_path: Path, relative: str) -> None:
    """Got through before: a case carrying a shared library plus a `libs` entry the scanner missed ran the
    library's constructor inside the solver (a marker file appeared in labgate's copy); a library under
    any name can be loaded by `motionSolverLibs` and the like, so its content decides, not its name."""
    case = _case(tmp_path / "case")
    (case / relative).parent.mkdir(parents=True, exist_ok=True)
    (case / relative).write_bytes(b"\x7fELF\x02\x01\x01" + bytes(200))
    with pytest.raises(TaskError, match=f"refused: {relative} is a compiled program or library"):
        refuse_code(case)


def test_a_compressed_dictionary_is_scanned_and_a_decompression_bomb_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Got through before as a memory bomb: a small `.gz` was expanded whole on the host before scanning."""
    case = _case(tmp_path / "case")
    (case / "0" / "p.gz").write_bytes(gzip.compress(b"internalField #codeStream { code #{ #}; };"))
    with pytest.raises(TaskError, match=r"refused: 0/p.gz uses '#codeStream'"):
        refuse_code(case)
    # Two members read as one stream (as zlib reads them for OpenFOAM): the code in the second is found.
    (case / "0" / "p.gz").write_bytes(gzip.compress(b"a 1;\n") + gzip.compress(b"b #codeStream { code #{ #}; };"))
    with pytest.raises(TaskError, match=r"refused: 0/p.gz uses '#codeStream'"):
        refuse_code(case)
    monkeypatch.setattr(_generic_control, "MAX_SCANNED_BYTES", 1 << 20)
    (case / "0" / "p.gz").write_bytes(gzip.compress(bytes(4 << 20)))
    with pytest.raises(TaskError, match=r"refused: 0/p.gz expands to more than 1048576 bytes"):
        refuse_code(case)
    (case / "0" / "p.gz").write_bytes(b"not gzip at all")  # OpenFOAM cannot read it either: not refused here
    refuse_code(case)


def test_the_scan_of_a_case_is_bounded_in_all_not_only_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Got through before as a stall: each `.gz` could expand to the per-file limit and each string or comment
    was looked at in Python (a 51 KB `.gz` of strings took 36 s), with no total over the case's files."""
    case = _case(tmp_path / "case")
    monkeypatch.setattr(_generic_control, "MAX_EXPANDED_BYTES", 3 << 20)
    for index in range(3):
        (case / "0" / f"f{index}.gz").write_bytes(gzip.compress(b"1 2 3 4 " * (128 << 10)))
    refuse_code(case)  # 3 MiB in all: read
    (case / "0" / "f3.gz").write_bytes(gzip.compress(b"1 2 3 4 " * (128 << 10)))
    with pytest.raises(TaskError, match=r"compressed files expand to more than 3145728 bytes in all"):
        refuse_code(case)
    (case / "0" / "f3.gz").unlink()
    monkeypatch.setattr(_generic_control, "MAX_LEXEMES", 1000)
    (case / "0" / "names").write_text('"a" ' * 400)
    refuse_code(case)
    (case / "constant" / "names").write_text('/* x */ "b" ' * 100)
    with pytest.raises(TaskError, match=r"open more than 1000 strings, comments and verbatim blocks in all"):
        refuse_code(case)


def test_keyword_patterns_cost_little_to_read_and_their_number_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Got through before as a stall: each quoted keyword followed by a list was compiled to see whether it reads
    as `libs`, and a class spanning all of Unicode takes Python 4 ms to compile (1.4 KB of gzip: 73 s)."""
    case = _case(tmp_path / "case")
    wide = "[\x01-\U0010ffff]" * 38
    notes = "".join(f'"{index:03d}{wide}" (x);\n' for index in range(3))
    monkeypatch.setattr(_generic_control, "MAX_WIDE_PATTERNS", 2)  # two are compiled (and do not match)
    (case / "constant" / "notes.gz").write_bytes(gzip.compress(notes.encode()))
    with pytest.raises(TaskError, match=r"refused: constant/notes.gz uses 'libs' naming x"):
        refuse_code(case)  # the third is taken to match, never compiled
    (case / "constant" / "notes.gz").unlink()
    monkeypatch.setattr(_generic_control, "MAX_KEYWORD_PATTERNS", 10)
    (case / "constant" / "patterns").write_text("".join(f'"k{index}.*" (sampling);\n' for index in range(10)))
    refuse_code(case)
    (case / "system" / "more").write_text('"z.*" (sampling);\n')
    with pytest.raises(TaskError, match=r"more than 10 quoted keyword patterns followed by a list"):
        refuse_code(case)


def test_installed_libraries_and_directives_without_code_stay_allowed(tmp_path: Path) -> None:
    """Rejected attack kinds (they run no code of the case's): `#include` of a host file, `#includeEtc`,
    `#eval`, `$FOAM_CASE` expansion, and a dynamic mesh naming an installed library. What `#include` can
    reach is the sandbox's view of the machine (see tests/test_sandbox_battery.py), never the host's."""
    case = _case(tmp_path / "case")
    (case / "constant" / "dynamicMeshDict").write_text(
        'dynamicFvMesh dynamicMotionSolverFvMesh;\nmotionSolverLibs ("libfvMotionSolvers.so");\n'
    )
    (case / "constant" / "transportProperties").write_text(
        '#include "/etc/shadow"\n#includeEtc "caseDicts/setConstraintTypes"\nnu #eval{ 0.01*2 };\nd "$FOAM_CASE";\n'
    )
    refuse_code(case)


# -- files of the machine named by a proposal or a remote client --------------------------------------------


def _user_case_task(case: Path, reference: Path | None = None) -> TaskSpec:
    params: dict[str, object] = {"case": "case", "case_dir": str(case)}
    if reference is not None:
        params["reference"] = str(reference)
    return TaskSpec(id="cfd/case", workload="cfd", params=params)


def test_a_proposal_may_not_name_another_file_of_the_machine(tmp_path: Path) -> None:
    """Got through before: only `case` was fixed, so an LLM's revision could point `case_dir` at another
    folder or `reference` at any file (its first line came back to the model in the error)."""
    case = _case(tmp_path / "case")
    other = _case(tmp_path / "other")
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    workload = CfdWorkload()
    task = _user_case_task(case)
    workload.validate_experiment(task, {**task.params, "end_time": 0.1})  # the task's own files: fine
    for change in ({"case_dir": str(other)}, {"reference": str(secret)}):
        with pytest.raises(TaskError, match="names a file of this machine and is fixed by the task") as error:
            workload.validate_experiment(task, {**task.params, **change})
        assert "root:" not in str(error.value)
    reference = tmp_path / "ref.csv"
    reference.write_text(HEADER + "Ux,0.5,0.5,0,0,1\n")
    with_reference = _user_case_task(case, reference)
    with pytest.raises(TaskError, match="reference names a file"):  # dropping the reference skips its comparison
        workload.validate_experiment(with_reference, {"case": "case", "case_dir": str(case)})


def test_a_proposal_may_not_move_what_a_gate_judges_against(tmp_path: Path) -> None:
    """Got through before: an LLM's revision could set `u_ref`, the speed the physical-range gate bounds |U|
    by, so a run ten thousand times too fast passed once the model named u_ref 1e4."""
    case = _case(tmp_path / "case")
    workload = CfdWorkload()
    task = _user_case_task(case)
    with pytest.raises(TaskError, match="u_ref sets what a gate judges against and is fixed by the task"):
        workload.validate_experiment(task, {**task.params, "u_ref": 1e4})
    given = TaskSpec(id="cfd/case", workload="cfd", params={**task.params, "u_ref": 2.0})
    workload.validate_experiment(given, {**given.params, "end_time": 0.1})  # the user's own u_ref: fine
    with pytest.raises(TaskError, match="u_ref sets what a gate"):  # nor may it drop the user's
        workload.validate_experiment(given, dict(task.params))


@pytest.fixture
def server(home: Path) -> Iterator[httpx.Client]:
    settings = Settings(home=home, run_workers=0, max_workers=2)
    with served_client(settings) as client:
        yield client


def test_the_api_reads_no_file_of_the_server_for_a_client(server: httpx.Client, tmp_path: Path) -> None:
    """Got through before: `reference=/etc/shadow` answered 422 quoting the file's first line, and
    `case_dir` of any server folder with a controlDict was queued, to be copied into the run's artifacts."""
    case = _case(tmp_path / "case")
    secret = tmp_path / "secret.csv"
    secret.write_text(HEADER + "TOPSECRET,1,2,3,4,5\n")
    for body in (
        {"task": "cfd/case", "params": {"reference": str(secret)}},
        {"task": "cfd/case", "params": {"reference": "/etc/passwd"}},
        {"task": "cfd/case", "params": {"case_dir": str(case)}},
        {"task": "cfd/case", "params": {"case_dir": ""}},  # "" resolves to the server's working directory
        {"task": "cfd/case", "params": {"case_dir": [str(case), "/"]}},
        {"spec": {"extends": "cfd/case", "params": {"case_dir": str(case)}}},
        {"spec": {"extends": "cfd/case", "sweep": {"reference": [str(secret)]}}},
        # Another spelling is the same parameter to the workload, which reads names without regard to case.
        {"task": "cfd/case", "params": {"CASE_DIR": str(case)}},
        {"task": "cfd/case", "params": {"Reference": "/etc/passwd"}},
        {"spec": {"extends": "cfd/case", "sweep": {"REFERENCE": [str(secret)]}}},
    ):
        response = server.post("/runs", json=body)
        assert response.status_code == 422, (body, response.text)
        assert "names a file on the server" in response.text, response.text
        assert "TOPSECRET" not in response.text and "root:" not in response.text
    assert server.get("/runs").json()["total"] == 0


# -- task files built to hurt the loader (rejected) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('extends: cfd/cavity\ngoal: !!python/object/apply:os.system ["touch {marker}"]\n', "malformed"),
        ("extends: ../../../../etc/passwd\n", "unknown task"),
        ("extends: cfd/cavity\nsweep: {cells: [-4]}\n", "cells"),
        ("extends: cfd/cavity\nsweep: {cells: [100000000000]}\n", "cells"),
        ("extends: cfd/cavity\nsweep: {re: [.nan]}\n", "re"),
        ('extends: cfd/cavity\nparams: {cells: "64; #include \\"/etc/shadow\\""}\n', "cells"),
    ],
)
def test_hostile_task_files_are_bad_input(tmp_path: Path, text: str, message: str) -> None:
    task = tmp_path / "task.yaml"
    task.write_text(text.replace("{marker}", str(tmp_path / "PWNED")))
    result = agent("run", str(task), home=tmp_path / "home", timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "PWNED").exists()


def test_a_library_shipped_with_a_case_never_loads(tmp_path: Path) -> None:
    """The end-to-end form of the hole: before, `agent run cfd/case` ran this library's constructor in the
    solver, leaving PWNED in labgate's copy. Now the experiment is refused before any step runs."""
    compiler = shutil.which("cc")
    require_tool(compiler is not None, "a C compiler")
    assert compiler is not None
    case = _case(tmp_path / "case")
    source = tmp_path / "evil.c"
    source.write_text('#include <stdio.h>\n__attribute__((constructor)) static void f(void) { fopen("PWNED", "w"); }\n')
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(case / "constant" / "data"), str(source)], check=True)
    (case / "constant" / "fvOptions").write_text('evil { type x; libs ("$FOAM_CASE/constant/data"); }\n')
    home = tmp_path / "home"
    result = agent("run", "cfd/case", "--param", f"case_dir={case}", home=home, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr  # the run fails: its one experiment is refused
    assert "refused: constant/data is a compiled program or library" in result.stdout + result.stderr
    assert not list(home.rglob("PWNED")) and not (case / "PWNED").exists()


def _mesh(case: Path, *patches: str) -> None:
    """A `constant/polyMesh/boundary` listing `patches`, each `name type nFaces [group ...]`."""
    entries = []
    for start, patch in enumerate(patches):
        name, kind, faces, *groups = patch.split()
        grouped = f"inGroups List<word> {len(groups)}({' '.join(groups)}); " if groups else ""
        entries.append(f"{name} {{ type {kind}; {grouped}nFaces {faces}; startFace {100 * start}; }}")
    mesh = case / "constant" / "polyMesh"
    mesh.mkdir(parents=True, exist_ok=True)
    header = "FoamFile { version 2.0; format ascii; class polyBoundaryMesh; object boundary; }\n"
    (mesh / "boundary").write_text(header + f"{len(entries)}\n(\n" + "\n".join(entries) + "\n)\n")


CAVITY_MESH = ("lid wall 20", "outlet patch 20", "walls wall 60 wall", "frontAndBack empty 800")


@pytest.mark.parametrize(
    "patch",
    [
        "type zeroGradient; value uniform (1e30 0 0);",  # got through before: a value OpenFOAM never imposes
        "type calculated; value uniform (1e30 0 0);",
        "type inletOutlet; inletValue uniform (0 0 0); value uniform (1e30 0 0);",
        "type fixedValue; value uniform (inf 0 0);",  # got through before: an infinite reference speed
        "type fixedValue; value uniform (nan 0 0);",
        # Types that recompute their `value` from a flow rate or a rotation: it is only a starting value.
        "type flowRateInletVelocity; volumetricFlowRate 1e-3; value uniform (1e30 0 0);",
        "type rotatingWallVelocity; origin (0 0 0); axis (0 0 1); omega 1; value uniform (1e30 0 0);",
        "type uniformFixedValue; uniformValue table ((0 (0 0 0)) (1 (1e30 0 0))); value uniform (1e30 0 0);",
    ],
)
def test_an_unimposed_or_infinite_boundary_value_does_not_set_the_reference_speed(tmp_path: Path, patch: str) -> None:
    """The physical-range gate bounds |U| by a multiple of the largest speed set in 0/U; a huge `value` that
    OpenFOAM never applies made every velocity field a vanishing fraction of it, so any field passed."""
    case = _case(tmp_path / "case")
    _mesh(case, *CAVITY_MESH)
    (case / "0" / "U").write_text(
        "internalField uniform (0 0 0);\n"
        f"boundaryField {{ lid {{ type fixedValue; value uniform (2 0 0); }} outlet {{ {patch} }} }}\n"
    )
    assert imposed_speed(case).speed == 2.0


@pytest.mark.parametrize(
    "phantom",
    [
        # Got through before: an entry for a patch the mesh does not have still set the reference speed.
        "noSuchPatch { type fixedValue; value uniform (1e30 0 0); }",
        # A patch with no faces imposes nothing; nor does an `empty` one (2-D front and back).
        "outlet { type fixedValue; value uniform (1e30 0 0); }",
        "frontAndBack { type fixedValue; value uniform (1e30 0 0); }",
        # Unquoted, `wal.*` is a plain name (no patch has it), not a pattern overriding the quoted one.
        '".*" { type noSlip; } wal.* { type fixedValue; value uniform (1e30 0 0); }',
        # A pattern never reaches a patch named exactly, nor one given through its group.
        '"(lid|walls)" { type fixedValue; value uniform (1e30 0 0); }',
        '"(lid|walls)" { type fixedValue; value uniform (1e30 0 0); } wall { type noSlip; }',
        "moving { type fixedValue; value uniform (1e30 0 0); }",  # a group no patch is in
        # Quoted, even a plain name is a pattern: the group's entry reaches `walls` first.
        '"walls" { type fixedValue; value uniform (1e30 0 0); } wall { type noSlip; }',
    ],
)
def test_only_patches_of_the_mesh_that_ran_set_the_reference_speed(tmp_path: Path, phantom: str) -> None:
    case = _case(tmp_path / "case")
    _mesh(case, "lid wall 20", "outlet patch 0", "walls wall 60 wall", "frontAndBack empty 800")
    (case / "0" / "U").write_text(
        "internalField uniform (0 0 0);\nboundaryField\n{\n"
        f"    {phantom}\n    lid {{ type fixedValue; value uniform (2 0 0); }}\n    walls {{ type noSlip; }}\n}}\n"
    )
    found = imposed_speed(case)
    assert found.speed == 2.0, found
    assert "patch lid (fixedValue value)" in found.basis


@pytest.mark.parametrize(
    ("entries", "speed", "where"),
    [
        ('".*" { type fixedValue; value uniform (3 0 0); }', 3.0, "patch lid"),
        ('"(lid|top)" { type fixedValue; value uniform (0 4 0); }', 4.0, "patch lid"),
        ("walls { type movingWallVelocity; value uniform (0 0 5); }", 5.0, "patch walls"),
        ("wall { type fixedValue; value uniform (6 0 0); }", 6.0, "patch walls"),  # through its group
        # A later pattern wins, as in OpenFOAM's dictionaries.
        ('".*" { type noSlip; } "w.*" { type fixedValue; value uniform (7 0 0); }', 7.0, "patch walls"),
        ("inlet { type inletOutlet; inletValue uniform (8 0 0); value uniform (0 0 0); }", 8.0, "patch inlet"),
        # A pattern spelling the name is found before any regular expression, wherever it stands.
        ('"walls" { type fixedValue; value uniform (9 0 0); } "w.*" { type noSlip; }', 9.0, "patch walls"),
    ],
)
def test_a_pattern_a_group_and_a_real_patch_still_set_the_reference_speed(
    tmp_path: Path, entries: str, speed: float, where: str
) -> None:
    case = _case(tmp_path / "case")
    _mesh(case, "lid wall 20", "walls wall 60 wall", "inlet patch 10", "frontAndBack empty 800")
    (case / "0" / "U").write_text(
        f"internalField uniform (0 0 0);\nboundaryField {{ frontAndBack {{ type empty; }} {entries} }}\n"
    )
    found = imposed_speed(case)
    assert found.speed == speed and where in found.basis, found


def test_without_a_readable_mesh_no_boundary_value_is_trusted(tmp_path: Path) -> None:
    case = _case(tmp_path / "case")
    (case / "0" / "U").write_text(
        "internalField uniform (0 0 0);\nboundaryField { lid { type fixedValue; value uniform (1e30 0 0); } }\n"
    )
    found = imposed_speed(case)  # no constant/polyMesh/boundary at all
    assert found.speed == 1.0 and "no boundary value counted" in found.basis and "set u_ref" in found.basis
    _mesh(case, "lid wall 20")
    (case / "constant" / "polyMesh" / "boundary").write_text("2 ( lid { type wall; nFaces 20; startFace 0; } )\n")
    assert "announces 2 patches but holds 1" in imposed_speed(case).basis
    (case / "0" / "U").write_text("internalField uniform (0 3 4);\nboundaryField { lid { type noSlip; } }\n")
    assert imposed_speed(case).speed == 5.0  # the uniform internal field still counts


def _judged_case(directory: Path, user: Path, lid: str, speeds: tuple[float, ...]) -> GateResult:
    """The physical-range verdict on an experiment whose copy (`directory/case`) has the lid speed `lid`,
    its largest cells moving at `speeds`; `user` is the folder the user named (not what ran)."""
    case = _case(directory / "case")
    _mesh(case, *CAVITY_MESH)
    (case / "0" / "U").write_text(
        "internalField uniform (0 0 0);\nboundaryField { noSuchPatch { type fixedValue; value uniform (1e30 0 0); } "
        f"lid {{ type fixedValue; value uniform ({lid} 0 0); }} walls {{ type noSlip; }} }}\n"
    )
    (case / "1").mkdir()
    cells = " ".join(f"({value} 0 0)" for value in speeds)
    (case / "1" / "U").write_text(f"internalField nonuniform List<vector> {len(speeds)}({cells});\n")
    task = next(t for t in CfdWorkload().tasks() if t.id == "cfd/case")
    spec = ExperimentSpec(key="base", task_id=task.id, params={"case": "case", "case_dir": str(user)})
    outcome = ExperimentOutcome(key="base", status="completed")
    context = GateContext(task=task, experiment=spec, directory=directory, outcome=outcome)
    return run_gate(get_gate("physical-range"), context)


def test_the_physical_range_gate_takes_the_speed_the_run_imposed(tmp_path: Path) -> None:
    """End to end through the gate: a phantom patch at 1e30 made a field 10 times the lid speed pass; and
    the speed came from the user's folder, not the copy that ran (here the folder says 100)."""
    user = _case(tmp_path / "user")
    (user / "0" / "U").write_text("boundaryField { lid { type fixedValue; value uniform (100 0 0); } }\n")
    too_fast = _judged_case(tmp_path / "fast", user, "1", (0.5, 10.0))
    assert too_fast.decision == "revise", too_fast.reasons
    assert "|U| reaches 10 times the reference velocity" in " ".join(too_fast.reasons)
    assert too_fast.metrics["u_ref"] == 1.0
    fine = _judged_case(tmp_path / "fine", user, "4", (0.5, 10.0))
    assert fine.decision == "accept", fine.reasons
    assert any("U_ref = 4 m/s, the largest speed 0/U imposes on the mesh: patch lid" in r for r in fine.reasons)


# -- hostile text on the dashboard (rejected: everything is escaped) ------------------------------------------

PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def test_hostile_text_from_every_source_stays_text_on_the_dashboard(server: httpx.Client, home: Path) -> None:
    """A rationale (an LLM's), solver text in gate reasons and logs, event messages, step details, parameter
    values, artifact names with `../` and markup, and a reviewer's notes: all shown, none as markup."""
    store = RunStore(home)
    try:
        task = TaskSpec(id="cfd/x", workload="cfd", title=PAYLOAD, params={"case": PAYLOAD})
        run, other = store.create_run(task), store.create_run(task)
        experiment = store.add_experiment(
            run.id, ExperimentSpec(key="base", task_id="cfd/x", params={"note": PAYLOAD}, rationale=PAYLOAD)
        )
        store.add_verdict(
            run.id, experiment.id, GateResult(gate="solver-log", decision="reject", reasons=[f"fatal: {PAYLOAD}"])
        )
        log = store.add_artifact_bytes(
            run.id,
            f"Time = 1\nSolving for {PAYLOAD}\nEnd\n".encode(),
            kind="log",
            name=f"../../{PAYLOAD}/log.icoFoam",
            experiment_id=experiment.id,
        )
        step = store.start_step(run.id, "solve", PAYLOAD)
        store.finish_step(step.id, "failed", PAYLOAD)
        store.emit(run.id, "progress", PAYLOAD, {"summary": PAYLOAD})
        store.update_run(run.id, notes=f"[click](javascript:alert(3)) {PAYLOAD}")
        responses = [
            server.get("/"),
            server.get(f"/ui/runs/{run.id}"),
            server.get(f"/ui/artifacts/{log.id}"),
            server.get("/ui/compare", params={"run": [run.id, other.id]}),
        ]
        assert [response.status_code for response in responses] == [200] * 4
        pages = [response.text for response in responses]
        served = server.get(f"/artifacts/{log.sha256}")
    finally:
        store.engine.dispose()
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page  # as text: `&lt;img ...`
        assert 'href="javascript:' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]
    assert served.headers["content-security-policy"].startswith("sandbox")
    assert "/" not in served.headers["content-disposition"].split("filename", 1)[1].replace("''", "")


def test_artifact_names_cannot_escape_the_archive_or_the_store(server: httpx.Client, home: Path) -> None:
    """Rejected: names with `../`, absolute paths, backslashes, URL-encoding, NUL-like and very long parts
    are metadata only; the store keys files by digest and the archive cleans every entry name."""
    hostile = ["../../../../etc/cron.d/x", "/etc/passwd", "..\\..\\win.ini", "%2e%2e%2fup", "a\x01b", "x" * 5000]
    store = RunStore(home)
    try:
        run = store.create_run(TaskSpec(id="cfd/x", workload="cfd", params={"case": "cavity"}))
        for index, name in enumerate(hostile):
            store.add_artifact_bytes(run.id, f"content {index}".encode(), kind="data", name=name)
    finally:
        store.engine.dispose()
    assert not (home.parent / "etc").exists() and not list(home.rglob("cron.d"))
    response = server.get(f"/runs/{run.id}/archive")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        contents = {archive.read(name) for name in names}
    assert {f"content {index}".encode() for index in range(len(hostile))} <= contents
    for name in names:
        parts = name.split("/")
        assert not name.startswith("/") and ".." not in parts and "\\" not in name, name
        assert all(0 < len(part) <= 120 for part in parts), name
    for path in ("/artifacts/..%2f..%2fetc%2fpasswd", "/artifacts/%2e%2e", "/artifacts/" + "a" * 64 + "%00"):
        assert server.get(path).status_code in (404, 422), path


# -- dictionaries built to hurt labgate's own reader ----------------------------------------------------------


def test_a_deeply_nested_dictionary_is_bad_input_not_a_crash(tmp_path: Path) -> None:
    """Got through before: 100,000 nested `{` in a case's file raised RecursionError out of labgate's reader,
    not the FoamParseError its callers (controlDict, 0/U, polyMesh/boundary readers) handle."""
    with pytest.raises(FoamParseError, match="nested deeper than"):
        parse_foam_dict("a " + "{ b " * 100_000)
    with pytest.raises(FoamParseError, match="nested deeper than"):
        parse_foam_dict("a " + "(" * 100_000 + ";")
    case = _case(tmp_path / "case")
    (case / "system" / "controlDict").write_text("application icoFoam;\nfunctions " + "{ a " * 100_000)
    (case / "1").mkdir()
    result = agent("check", "cfd/case", str(case), home=tmp_path / "home", timeout=120)
    assert result.returncode == 2 and "nested deeper than" in result.stderr, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text", ["/* " * 200_000, '"\\' * 200_000, "#{ " * 200_000])
def test_unclosed_comments_strings_and_blocks_are_read_in_linear_time(tmp_path: Path, text: str) -> None:
    """Got through before: 600 kB of unclosed `/* ` took minutes to scan (each one searched to the end of
    the file, twice: by the code scanner and by the reader); a 128 MB case file, days."""
    case = _case(tmp_path / "case")
    (case / "constant" / "transportProperties").write_text(text)
    started = time.monotonic()
    refuse_code(case)
    parse_foam_dict(text)
    assert time.monotonic() - started < 5


def test_comments_are_recognised_where_openfoam_recognises_them() -> None:
    parsed = parse_foam_dict(
        'note "see http://example.org"; nu 0.01; // gone\n/* gone */ path a//b; code #{ // kept #};'
    )
    assert parsed == {"note": '"see http://example.org"', "nu": "0.01", "path": "a//b", "code": "#{ // kept #}"}


@pytest.mark.parametrize("task", ["cfd/cavity", "cfd/backward-step", "cfd/periodic-hill"])
def test_checking_a_case_against_a_catalog_task_refuses_its_code_too(tmp_path: Path, task: str) -> None:
    """Got through before: only `cfd/case` scanned a case; `agent check cfd/backward-step PATH` ran the
    solver's -postProcess on a copy whose fvOptions (read by simpleFoam there) could load a library, and
    a `dynamicCode` folder (prebuilt coded conditions) was copied along."""
    case = _case(tmp_path / "case")
    (case / "constant" / "fvOptions").write_text('evil { type x; libs ("$FOAM_CASE/constant/data"); }\n')
    result = agent("check", task, str(case), home=tmp_path / "home", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refused: constant/fvOptions uses 'libs'" in result.stderr, result.stderr


STOCK_CAVITY = Path("/usr/share/doc/openfoam-examples/examples/incompressible/icoFoam/cavity/cavity")


@pytest.mark.parametrize(
    ("relative", "old", "new", "message"),
    [
        ("constant/transportProperties", "nu              0.01;", "nu 0;", "nu must be a positive finite number"),
        ("constant/transportProperties", "nu              0.01;", "nu -1e-3;", "nu must be a positive finite"),
        ("system/blockMeshDict", "scale   0.1;", "scale   0;", "cannot read the case's parameters"),
        ("system/blockMeshDict", "(0 0 0)", "(a b c)", "blockMeshDict: vertex 0 is not (x y z)"),
    ],
)
def test_impossible_values_in_a_checked_case_are_bad_input(
    tmp_path: Path, relative: str, old: str, new: str, message: str
) -> None:
    """Got through before: `nu 0;` in a case given to `agent check cfd/cavity` ended in a ZeroDivisionError
    traceback; a zero length or a word for a vertex did the same further on."""
    require_tool(STOCK_CAVITY.is_dir(), "OpenFOAM's tutorials (openfoam-examples)")
    case = tmp_path / "cavity"
    shutil.copytree(STOCK_CAVITY, case)
    (case / "0.5").mkdir()
    shutil.copyfile(case / "0" / "U", case / "0.5" / "U")
    text = (case / relative).read_text()
    assert old in text
    (case / relative).write_text(text.replace(old, new, 1))
    result = agent("check", "cfd/cavity", str(case), home=tmp_path / "home", timeout=120)
    assert result.returncode == 2 and message in result.stderr, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_system_operations_are_off_for_every_step_of_a_users_case(tmp_path: Path) -> None:
    """Got through before: the `InfoSwitches { allowSystemOperations 0; }` labgate writes into a case's
    controlDict is ignored ("unregistered" in every log), so `#codeStream` compiled and ran whenever the
    scanner missed it (it reached the compiler and stopped only at a missing WM_OPTIONS). The switch now
    comes from the solver's home, the case, where labgate writes it; a case bringing its own is refused."""
    case = _case(tmp_path / "case")
    (case / ".OpenFOAM").mkdir()
    (case / ".OpenFOAM" / "controlDict").write_text("InfoSwitches { allowSystemOperations 1; }\n")
    with pytest.raises(TaskError, match=r"refused: \.OpenFOAM.*replace the installation's OpenFOAM settings"):
        refuse_code(case)
    pin_settings(case)
    config = OpenFOAMConfig()
    sandbox = LocalSandbox(workdir=case)
    try:
        run_steps(sandbox, [CaseStep("mesh", ("blockMesh",), "log.blockMesh")], config, timeout=60)
    finally:
        sandbox.close()
    log = (case / "log.blockMesh").read_text()
    assert "allowSystemOperations : Disallowing user-supplied system call operations" in log, log[:2000]


def _huge_sweep(values: int) -> dict[str, list[float]]:
    names = ("re", "cells", "lid_velocity", "length", "convective_times")
    return {name: [16.0 + index for index in range(values)] for name in names}


def test_a_sweep_of_millions_of_experiments_is_refused_before_any_is_built(
    server: httpx.Client, tmp_path: Path
) -> None:
    """Got through before: five swept parameters of 9 values (a 1 kB body) were queued after 1.4 s of building and
    validating 59,049 combinations; 50 values each (312 million) would have held the server for hours and
    filled its memory. The YAML form (anchors make it a few lines) reached 1.4 GB in `agent run`."""
    started = time.monotonic()
    response = server.post("/runs", json={"spec": {"extends": "cfd/cavity", "sweep": _huge_sweep(50)}})
    assert response.status_code == 422 and "312,500,000 combinations" in response.text, response.text
    response = server.post("/runs", json={"task": "cfd/cavity", "params": _huge_sweep(9)})
    assert response.status_code == 422 and "59,049 combinations" in response.text, response.text
    assert time.monotonic() - started < 10
    assert server.get("/runs").json()["total"] == 0
    with pytest.raises(TaskError, match="the sweep makes 59,049 experiments; at most 10,000"):
        CfdWorkload().validate(
            TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"}, sweep=_huge_sweep(9))
        )


def _fixed_case_workload() -> SimpleNamespace:
    """A workload whose `case` parameter selects the case and is fixed; anything else is a hypothesis."""
    return SimpleNamespace(
        fixed_params=lambda task: ("case",),
        validate_experiment=lambda task, params: None,
        validate_revision=lambda task, revised, params: None,
        param_schema=lambda task: {"properties": {"re": {"type": "number"}, "case": {"type": "string"}}},
    )


class _Model:
    model = "scripted"

    def __init__(self, params: dict[str, object]) -> None:
        self.params = params

    def structured(self, messages: object, schema: type[LLMProposal]) -> LLMProposal:
        return LLMProposal(action="run", params=self.params, rationale="try another case")


def test_a_revision_cannot_add_a_fixed_parameter_the_experiment_left_to_its_default() -> None:
    """Got through before: a fixed parameter was restored only when the experiment had set it, so a model
    adding `case` to an experiment that used the task's default case switched the case."""
    workload = _fixed_case_workload()
    task = TaskSpec(id="demo/fixed", workload="fixed-case", params={"re": 100})
    context = SimpleNamespace(task=task, workload=workload, emit=lambda *args: None)
    item = JudgedExperiment(ExperimentSpec(key="base", task_id=task.id, params={"re": 100}), "revise", [])
    model = _Model({"re": 200, "case": "another"})
    policy = LLMRevisionPolicy(context, model, BuiltinRevisionPolicy(workload))  # type: ignore[arg-type]
    proposal = policy.revise_one(item, [])
    assert proposal is not None and proposal.params == {"re": 200}
    item = JudgedExperiment(ExperimentSpec(key="b", task_id=task.id, params={"re": 1, "case": "mine"}), "revise", [])
    proposal = policy.revise_one(item, [])
    assert proposal is not None and proposal.params == {"re": 200, "case": "mine"}


def test_a_planners_rationale_is_shown_as_unjudged_words() -> None:
    """Got through before: the Plan section printed a model planner's rationale ("every case passed") as the
    report's own words; experiment rationales were already labelled as the proposer's."""
    from agents._writer import UNJUDGED, _plan_section

    run = SimpleNamespace(options={"plan": {"planner": "a model", "rationale": "Every case passed.", "citations": []}})
    lines = _plan_section(run, [])  # type: ignore[arg-type]
    shown = next(line for line in lines if "Every case passed" in line)
    assert UNJUDGED in shown and "*Every case passed.*" in shown


FORGING_MODEL = (
    "#include <fstream>\n"
    'static const int forged = (std::ofstream("postProcessing/forged") << "Cf matches the DNS", 0);\n'
)


def test_a_proposal_may_not_bring_its_own_model_cpp() -> None:
    """Got through before: an LLM's revision (or a plan) could set `sa.source`, C++ compiled into every
    OpenFOAM program of the case. The model-edit search checks every token an edit adds, so that a model
    cannot write the fields and files the gates read; a hypothesis bypassed those checks entirely."""
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    hostile = {**task.params, "sa": {"Cb1": 0.2, "source": FORGING_MODEL}}
    with pytest.raises(TaskError, match=r"sa\.source is C\+\+ compiled into the solver"):
        workload.validate_experiment(task, hostile)
    workload.validate_experiment(task, {**task.params, "sa": {"Cb1": 0.2}})  # coefficients stay a hypothesis
    given = TaskSpec(id=task.id, workload="cfd", params={**task.params, "sa": {"source": "// the user's own"}})
    workload.validate_experiment(given, {**given.params, "sa": {"source": "// the user's own", "Cb1": 0.2}})
    with pytest.raises(TaskError, match=r"sa\.source"):  # nor may a proposal drop or replace the user's
        workload.validate_experiment(given, {**given.params, "sa": {"Cb1": 0.2}})
    # Through the revision policy: the model's C++ never reaches an experiment; the built-in policy answers.
    context = SimpleNamespace(task=task, workload=workload, emit=lambda *args: None)
    item = JudgedExperiment(ExperimentSpec(key="base", task_id=task.id, params=dict(task.params)), "revise", [])
    policy = LLMRevisionPolicy(context, _Model(hostile), BuiltinRevisionPolicy(workload))  # type: ignore[arg-type]
    proposal = policy.revise_one(item, [])
    assert proposal is None or "source" not in (proposal.params.get("sa") or {}), proposal


def test_a_proposal_may_not_change_what_a_proof_task_proves() -> None:
    """Got through before: the proofs workload fixed nothing, so an LLM's revision (after a gate of the
    user's own said `revise`) could restate the theorem or add `Axiom cheat : False.` to the header, whose
    postulates the proof gate allows, and have anything proved."""
    from tools.proofs import ProofsWorkload

    workload = ProofsWorkload()
    task = TaskSpec(
        id="proofs/mine",
        workload="proofs",
        params={"statement": "Theorem mine : forall n : nat, n + 0 = n.", "header": "Require Import Arith."},
    )
    for change in (
        {"header": "Require Import Arith.\nAxiom cheat : False."},
        {"statement": "Theorem mine : True."},
        {"prover": "lean4"},
        {"header": ""},
    ):
        with pytest.raises(TaskError, match="names what the task proves"):
            workload.validate_experiment(task, {**task.params, **change})
    workload.validate_experiment(task, {**task.params, "attempts": 96})  # how hard to search: a hypothesis
    context = SimpleNamespace(task=task, workload=workload, emit=lambda *args: None)
    item = JudgedExperiment(ExperimentSpec(key="base", task_id=task.id, params=dict(task.params)), "revise", [])
    hostile = {**task.params, "header": "Axiom cheat : False.", "statement": "Theorem mine : 0 = 1.", "attempts": 96}
    policy = LLMRevisionPolicy(context, _Model(hostile), BuiltinRevisionPolicy(workload))  # type: ignore[arg-type]
    proposal = policy.revise_one(item, [])
    assert proposal is not None and proposal.params == {**task.params, "attempts": 96}, proposal
