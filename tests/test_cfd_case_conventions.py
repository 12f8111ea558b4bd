"""Conventions of stock OpenFOAM cases that `cfd/case` follows as OpenFOAM and the tutorials' Allrun do:
a dictionary compressed as `U.gz` is read where `U` is missing, and `0/T.orig` stands for `0/T` where the
case keeps only the original for its Allrun to copy (`cp 0/T.orig 0/T`)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.stock_cases import rerun_stock_case
from tools.cfd.cases._generic_speed import imposed_speed
from tools.cfd.openfoam import _foamread
from tools.cfd.openfoam._foamread import FoamParseError, read_foam_dict

INLET = "internalField uniform (0 0 0);\nboundaryField { inlet { type fixedValue; value uniform (7.5 0 0); } }\n"
BOUNDARY = "1 ( inlet { type patch; nFaces 4; startFace 0; } )\n"


def _case(root: Path) -> Path:
    (root / "0").mkdir(parents=True)
    (root / "constant" / "polyMesh").mkdir(parents=True)
    (root / "constant" / "polyMesh" / "boundary").write_text(BOUNDARY)
    return root


def test_a_compressed_initial_velocity_gives_the_reference_speed(tmp_path: Path) -> None:
    """Before, `0/U.gz` (the scalarTransportFoam pitzDaily ships one) was 'missing': U_ref fell back to
    1 m/s and the physical-range gate judged a 10 m/s flow as ten times too fast."""
    case = _case(tmp_path / "case")
    (case / "0" / "U.gz").write_bytes(gzip.compress(INLET.encode()))
    speed = imposed_speed(case)
    assert speed.speed == pytest.approx(7.5), speed.basis


def test_the_plain_file_wins_over_its_compressed_copy(tmp_path: Path) -> None:
    case = _case(tmp_path / "case")
    (case / "0" / "U").write_text(INLET)
    (case / "0" / "U.gz").write_bytes(gzip.compress(INLET.replace("7.5", "2").encode()))
    assert imposed_speed(case).speed == pytest.approx(7.5)


def test_a_compressed_dictionary_that_is_not_gzip_or_expands_too_far_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "U.gz").write_bytes(b"plain text, not gzip")
    with pytest.raises(FoamParseError, match=r"U.gz is not gzip-compressed"):
        read_foam_dict(tmp_path / "U", within=tmp_path)
    monkeypatch.setattr(_foamread, "MAX_DICT_BYTES", 1 << 16)
    (tmp_path / "U.gz").write_bytes(gzip.compress(b" " * (1 << 20)))
    with pytest.raises(FoamParseError, match=r"U.gz expands to more than 65536 bytes"):
        read_foam_dict(tmp_path / "U", within=tmp_path)
    (tmp_path / "U.gz").unlink()
    with pytest.raises(FoamParseError, match=r"/U does not exist"):
        read_foam_dict(tmp_path / "U", within=tmp_path)


def test_a_compressed_link_is_refused_like_a_plain_one(tmp_path: Path) -> None:
    secret = tmp_path / "secret.gz"
    secret.write_bytes(gzip.compress(INLET.encode()))
    case = _case(tmp_path / "case")
    (case / "0" / "U.gz").symlink_to(secret)
    with pytest.raises(FoamParseError, match="refused"):
        read_foam_dict(case / "0" / "U", within=case)


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_the_stock_hot_room_runs_from_its_original_temperature_field(home: Path, tmp_path: Path) -> None:
    """buoyantBoussinesqSimpleFoam/hotRoom keeps only `0/T.orig`; before, its solver stopped at once
    ('cannot find file 0/T')."""
    relative = "heatTransfer/buoyantBoussinesqSimpleFoam/hotRoom"
    case, _, verdicts = rerun_stock_case(relative, home, tmp_path, "end_time=3")
    assert verdicts["deliverables"]["decision"] == "accept", verdicts["deliverables"]["reasons"]
    assert verdicts["physical-range"]["decision"] == "accept", verdicts["physical-range"]["reasons"]
    assert not (case / "0" / "T").exists(), "the user's case was changed"
    setfields = next(home.rglob("log.setFields")).read_text()
    assert "End" in setfields and "T" in setfields
