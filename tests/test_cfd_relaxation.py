"""Residuals of under-relaxed equations are judged as the unrelaxed equation's.

A red-team pitzDaily with its equations relaxed by 1e-2 (U) and 1e-6 (k, epsilon), and the pressure's
residual control tightened so that simpleFoam reported convergence, logged residuals below the solver-log
gate's absolute floor (1e-5) and passed every gate, the reproduction and the mesh check included (each
re-run stalls the same way), while its velocity lay 62 % RMS from the converged field. A relaxed equation's
normalised residual reads about its factor times the unrelaxed one; the floor now scales with the factor.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import agent
from tests.test_check_stock_cases import _run_by_hand, _tutorial
from tools.cfd import FoamParseError, equation_relaxation

HEADER = "FoamFile { version 2.0; format ascii; class dictionary; object fvSolution; }\n"


def _solution(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fvSolution"
    path.write_text(HEADER + body)
    return path


def test_each_equation_s_factor_is_read_as_openfoam_matches_it(tmp_path: Path) -> None:
    factor = equation_relaxation(
        _solution(
            tmp_path,
            'relaxationFactors { fields { p 0.3; } equations { ".*" 0.5; U 0.01; "(k|epsilon)" 1e-6; } }',
        )
    )
    assert factor("Ux") == factor("Uz") == 0.01  # a component is solved in its vector's equation
    assert factor("k") == factor("epsilon") == 1e-6  # the last pattern written wins
    assert factor("nuTilda") == 0.5 and factor("p") == 0.5  # equations only: p's field relaxation aside
    flat = equation_relaxation(_solution(tmp_path, "relaxationFactors { U 0.7; p 0.3; }"))
    assert flat("Uy") == 0.7 and flat("p") == 0.3  # the old flat form relaxes equations too
    none = equation_relaxation(_solution(tmp_path, "solvers { }"))
    assert none("Ux") == 1.0
    with pytest.raises(FoamParseError, match="not a positive number"):
        equation_relaxation(_solution(tmp_path, "relaxationFactors { equations { U -1; } }"))


def test_a_dotted_name_is_never_read_more_leniently_than_the_solver_relaxes_it(tmp_path: Path) -> None:
    # Written plainly, `alpha.water` is that equation's own entry and OpenFOAM takes it before the later
    # pattern; it used to be read as a pattern only, so the later `".*" 1` set its factor to 1.
    plain = equation_relaxation(_solution(tmp_path, 'relaxationFactors { equations { alpha.water 1e-6; ".*" 1; } }'))
    assert plain("alpha.water") == 1e-6
    assert plain("k") == 1.0
    phases = equation_relaxation(_solution(tmp_path, "relaxationFactors { equations { U.air 1e-3; } }"))
    assert phases("U.airx") == 1e-3  # a phase's velocity component is solved in that phase's equation
    # In quotes it is a pattern, and the later `".*"` wins in OpenFOAM: the reader cannot tell the spellings
    # apart, and takes the smaller factor of the two.
    quoted = equation_relaxation(_solution(tmp_path, 'relaxationFactors { equations { "alpha.water" 1; ".*" 1e-3; } }'))
    assert quoted("alpha.water") == 1e-3


@pytest.mark.parametrize(
    "body",
    [
        'relaxationFactors { "equation." { U 1e-2; ".*" 1e-6; } }',
        '"relaxationFactor.*" { equations { U 1e-2; ".*" 1e-6; } }',
    ],
    ids=["equations under a pattern", "relaxationFactors under a pattern"],
)
def test_factors_under_pattern_keys_are_found_as_openfoam_finds_them(tmp_path: Path, body: str) -> None:
    """OpenFOAM relaxes pitzDaily identically under these keys; read by exact names they were factors of 1."""
    factor = equation_relaxation(_solution(tmp_path, body))
    assert factor("Ux") == 1e-2 and factor("epsilon") == 1e-6


def test_a_top_level_include_or_a_key_of_the_readers_own_is_not_read_as_no_factors(tmp_path: Path) -> None:
    with pytest.raises(FoamParseError, match="#include at its top level"):
        equation_relaxation(_solution(tmp_path, '#include "relaxation"\nsolvers { }'))
    with pytest.raises(FoamParseError, match="begins with '#'"):
        equation_relaxation(_solution(tmp_path, '"#directives" (x);'))


RELAXED = {
    "as the stock case writes them": 'U 1e-2; ".*" 1e-6;',
    # The same factors as OpenFOAM also reads them, each once read as absent (so as 1) and the case accepted:
    "under default and a POSIX class": '"[[:upper:]]" 1e-2; default 1e-6;',
    "followed by a second, empty block": 'U 1e-2; ".*" 1e-6; } equations {',
}
KEYS = {"under a pattern for equations": '"equation."'}
"""How the `equations` block is named where not as the stock case names it (OpenFOAM finds it by pattern)."""
RELAXED["under a pattern for equations"] = 'U 1e-2; ".*" 1e-6;'


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
@pytest.mark.parametrize("factors", sorted(RELAXED))
def test_a_steady_run_relaxed_until_its_residuals_vanish_is_not_converged(tmp_path: Path, factors: str) -> None:
    case = _tutorial("simpleFoam/pitzDaily", tmp_path / "pitz")
    solution = case / "system" / "fvSolution"
    text = solution.read_text()
    key = KEYS.get(factors, "equations")
    text, replaced = re.subn(r"equations\s*\{[^}]*\}", f"{key} {{ {RELAXED[factors]} }}", text, count=1)
    text = re.sub(r"(residualControl\s*\{\s*p\s+)1e-2;", r"\g<1>5e-4;", text, count=1)
    assert replaced == 1 and "1e-6;" in text and "5e-4;" in text, text
    solution.write_text(text)
    _run_by_hand(case, "blockMesh > log.blockMesh", "simpleFoam > log.simpleFoam")
    assert "converged in" in (case / "log.simpleFoam").read_text()  # simpleFoam calls it converged
    result = agent("check", "cfd/case", str(case), "--json", home=tmp_path / "home", timeout=600)
    report = json.loads(result.stdout)
    verdict = next(v for v in report["verdicts"] if v["gate"] == "solver-log")
    assert verdict["decision"] != "accept", verdict
    assert re.search(r"(k|epsilon|U.) residual fell only to", " ".join(verdict["reasons"])), verdict
