"""Compiled turbulence models: the sandboxed builder, its cache, its diagnostics and the correction family.

Tests that compile need the OpenFOAM headers (scripts/openfoam-headers), g++ and bubblewrap: locally
they skip saying which is missing; in CI (CI=true) scripts/setup provides them, so they must run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from agents.cfd_search import CmaesProposer, LlmModelProposer, Observation
from agents.cfd_search._model_tokens import foreign_tokens
from agents.llm import LLMConfig, OpenAIChat
from runs import ExperimentSpec
from sandboxes import LocalSandbox, Sandbox
from tests.conftest import require_tool
from tests.llm_server import Reply, Rule, ScriptedLLMServer
from tools.cfd import CfdWorkload, SACoefficients
from tools.cfd.models import (
    FEATURES,
    HeadersUnavailableError,
    ModelCompileError,
    build_model,
    describe_form,
    family_source,
    headers_available,
    headers_root,
    parse_diagnostics,
)


def local_sandbox(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return LocalSandbox(workdir=workdir, ro_paths=ro_paths)


HILL_SMALL = {"case": "periodic-hill", "cells_x": 30, "cells_y": 20, "wall_cell": 0.02, "iterations": 60}


@pytest.fixture
def compiler() -> None:
    require_tool(headers_available(), f"the OpenFOAM headers (scripts/openfoam-headers; expected at {headers_root()})")
    require_tool(shutil.which("g++") is not None, "g++ (build-essential)")
    probe = shutil.which("bwrap")
    require_tool(probe is not None, "bubblewrap")


def _broken(line_marker: str = "return 1.0 - tanh(pow3(8.0*rd));") -> tuple[str, int]:
    """The family source with a statement broken (a parenthesis dropped: an edit the token checks pass, since
    what an edit removes is free, and the compiler refuses), and the line it is on."""
    source = family_source()
    lines = source.splitlines()
    number = next(index for index, line in enumerate(lines, start=1) if line_marker in line)
    lines[number - 1] = lines[number - 1].replace("8.0*rd));", "8.0*rd);")
    return "\n".join(lines) + "\n", number


def test_the_search_box_of_the_form_family_and_cma_es_from_zero_defaults() -> None:
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    task = task.model_copy(update={"params": {**task.params, "search": {"runs": 4, "population": 2, "family": "form"}}})
    space = workload.search_space(task)
    assert space is not None
    names = {p.name for p in space.parameters}
    assert {"Cproduction", "Cdestruction", "Cfv1", "productionFeature", "featureScale"} <= names
    proposals = CmaesProposer().propose(space, [], 2, 0.003)
    assert len(proposals) == 2
    for values, why in proposals:
        assert all(p.low <= values[p.name] <= p.high for p in space.parameters)
        assert "Cproduction = " in why
        assert values != {p.name: p.default for p in space.parameters}
    assert describe_form({"Cproduction": 0.5, "productionFeature": 1.2}).startswith(
        "production x (1 + 0.5 F[shielding fd])"
    )
    assert describe_form({}) == "no correction (plain Spalart-Allmaras)"
    assert "F[fd exp(-chi/(50 scale))]" in describe_form({"Cproduction": 4.0, "productionFeature": 5})
    switches = {p.name: p.high for p in space.parameters if p.name.endswith("Feature")}
    assert switches == {name: 7.0 for name in ("productionFeature", "destructionFeature", "fv1Feature")}


def test_the_form_switches_are_drawn_as_categories_reaching_every_feature() -> None:
    """Rounded from a coordinate started at the plain model's 0 with a step of 0.3 of the box, the switches of
    eight candidates stayed within 0-4.5, so features 6 and 7 were never tried. As categories each candidate
    draws them: over a search every feature comes up, the draws replay exactly, and later generations lean
    on the best candidate's switches while CMA-ES moves only the amplitudes and the scale."""
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    task = task.model_copy(
        update={"params": {**task.params, "search": {"runs": 40, "population": 2, "family": "form"}}}
    )
    space = workload.search_space(task)
    assert space is not None
    switches = [p.name for p in space.parameters if p.categorical]
    assert switches == ["productionFeature", "destructionFeature", "fv1Feature"]
    proposer = CmaesProposer()
    history: list[Observation] = []
    seen: dict[str, set[float]] = {name: set() for name in switches}
    kept = 0
    for generation in range(20):
        proposals = proposer.propose(space, history, 2, 0.003)
        assert proposals == proposer.propose(space, history, 2, 0.003)  # replays exactly
        best = min(history, key=lambda o: o.objective or 1.0) if history else None
        for values, why in proposals:
            assert f"generation {generation + 1}" in why
            for name in switches:
                assert values[name] == round(values[name]) and 0 <= values[name] <= 7
                seen[name].add(values[name])
                kept += best is not None and values[name] == best.values[name]
            # the objective favours destruction feature 6: later generations should keep choosing it
            score = 0.002 if values["destructionFeature"] == 6 else 0.003 + 1e-5 * len(history)
            history.append(Observation(f"cand-{len(history) + 1:03d}", values, score))
    assert all(seen[name] == set(map(float, range(8))) for name in switches), seen
    assert kept > 40  # of 114 later draws, about half keep the best candidate's switch (a uniform draw: 1 in 8)


def test_every_feature_switch_the_box_reaches_is_one_the_model_has() -> None:
    """A switch value the C++ does not know would silently run the uniform feature."""
    source = family_source()
    highest = len(FEATURES) - 1
    assert all(f"form == {index}" in source for index in range(1, highest + 1))
    assert f"form == {highest + 1}" not in source
    SACoefficients(Cproduction=0.5, productionFeature=highest)
    with pytest.raises(ValidationError):
        SACoefficients(Cproduction=0.5, productionFeature=highest + 1)


def test_a_correction_switches_the_case_to_the_compiled_model_and_back() -> None:
    from tools.cfd.cases._hill import HillParams, hill_case

    stock = hill_case(HillParams())["constant/turbulenceProperties"]
    assert re.search(r"RASModel\s+SpalartAllmaras;", stock) and "Cproduction" not in stock
    corrected = hill_case(HillParams.model_validate({"sa": {"Cproduction": 0.5, "productionFeature": 1.4}}))
    text = corrected["constant/turbulenceProperties"]
    assert re.search(r"RASModel\s+SAcorrected;", text) and "SAcorrectedCoeffs" in text
    assert re.search(r"productionFeature\s+1;", text) and re.search(r"Cproduction\s+0.5;", text)


def test_the_wall_distance_scale_counts_in_each_cases_own_length(tmp_path: Path) -> None:
    from tools.cfd.cases._hill import HillParams, hill_case
    from tools.cfd.cases._infer import turbulence
    from tools.cfd.cases._step_task import STEP, BackwardStepCase, StepParams

    sa = {"Cproduction": 0.5, "productionFeature": 4, "featureScale": 2.0}
    hill = hill_case(HillParams.model_validate({"sa": sa}))["constant/turbulenceProperties"]
    assert re.search(r"referenceLength\s+1(\.0)?;", hill)  # lengths on the hill are in units of its height
    step_files = BackwardStepCase().files(StepParams.model_validate({"sa": sa, "model": "SpalartAllmaras"}))
    step = step_files["constant/turbulenceProperties"]
    assert re.search(rf"referenceLength\s+{STEP};", step) and re.search(r"featureScale\s+2(\.0)?;", step)
    assert "referenceLength" not in hill_case(HillParams())["constant/turbulenceProperties"]  # plain SA
    case = tmp_path / "case"
    (case / "constant").mkdir(parents=True)
    (case / "constant" / "turbulenceProperties").write_text(step)
    model, coefficients = turbulence(case)  # a case naming SAcorrected reads back as SA with its correction
    assert model == "SpalartAllmaras" and coefficients["Cproduction"] == 0.5 and coefficients["featureScale"] == 2.0
    assert "referenceLength" in (Path(__file__).parent.parent / "tools/cfd/models/SAcorrected.C").read_text()


def test_without_the_headers_the_builder_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABGATE_OPENFOAM_HEADERS", str(tmp_path / "none"))
    with pytest.raises(HeadersUnavailableError, match="OpenFOAM headers unavailable"):
        build_model(family_source(), cache=tmp_path / "cache")


def test_a_cache_hit_does_not_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    headers = tmp_path / "headers"
    headers.mkdir()
    (headers / ".complete").touch()
    monkeypatch.setenv("LABGATE_OPENFOAM_HEADERS", str(headers))
    from tools.cfd.models import _build

    digest = _build.source_digest("// model", headers)
    library = tmp_path / "cache" / digest[:2] / f"libmodel-{digest}.so"
    library.parent.mkdir(parents=True)
    library.write_bytes(b"\x7fELF cached")

    def no_sandbox(**_kwargs: object) -> None:
        raise AssertionError("a cached model must not be compiled again")

    monkeypatch.setattr(_build, "LocalSandbox", no_sandbox)
    built = build_model("// model", cache=tmp_path / "cache")
    assert built.cached and built.library == library
    with pytest.raises(AssertionError, match="must not be compiled"):
        build_model("// another model", cache=tmp_path / "cache")


def test_concurrent_builds_of_one_source_compile_once_and_no_reader_sees_half_a_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search's first candidates often share a source: built together, they failed on each other's temporary
    file, and a reader could take a half-copied library for a cached one."""
    import threading

    from sandboxes import ExecResult
    from tools.cfd.models import _build

    headers = tmp_path / "headers"
    headers.mkdir()
    (headers / ".complete").touch()
    monkeypatch.setenv("LABGATE_OPENFOAM_HEADERS", str(headers))
    size = 8 << 20
    compiled: list[int] = []

    class FakeSandbox:
        def __init__(self, workdir: Path, **_: object) -> None:
            self.workdir = Path(workdir)

        def write_file(self, relative: str, text: str) -> None:
            (self.workdir / relative).write_text(text)

        def exec(self, argv: list[str], **_: object) -> ExecResult:
            compiled.append(1)
            with open(self.workdir / "model.so", "wb") as handle:
                for _ in range(8):
                    handle.write(b"\x7fELF" + b"A" * ((size >> 3) - 4))
            return ExecResult(0, "", "", 0.1)

        def close(self) -> None:
            pass

    monkeypatch.setattr(_build, "LocalSandbox", FakeSandbox)
    cache = tmp_path / "cache"
    errors: list[str] = []
    torn: list[int] = []
    stop = threading.Event()

    def build() -> None:
        try:
            _build.build_model("// the family", cache=cache)
        except Exception as error:  # noqa: BLE001 - every failure is what the test reports
            errors.append(f"{type(error).__name__}: {error}")

    def read() -> None:
        while not stop.is_set():
            try:
                libraries = list(cache.glob("*/libmodel-*.so"))
            except FileNotFoundError:  # a build's own directory went away while listed: look again
                continue
            for library in libraries:
                if _build._trusted_entry(library) and len(library.read_bytes()) != size:
                    torn.append(1)

    reader = threading.Thread(target=read)
    reader.start()
    builders = [threading.Thread(target=build) for _ in range(4)]
    for thread in builders:
        thread.start()
    for thread in builders:
        thread.join()
    stop.set()
    reader.join()
    assert errors == [] and torn == [] and len(compiled) == 1


def test_diagnostics_are_parsed_into_file_line_and_message() -> None:
    output = (
        "/b/build-x/model.C:45:55: error: no matching function for call to 'f'\n"
        "/b/build-x/model.C:12:3: warning: unused variable 'x'\n"
        "/b/build-x/model.C:45:55: note: candidate is g\n"
        "/usr/bin/ld: /tmp/cc.o: in function `h': undefined reference to `Foam::g()'\n"
        "collect2: error: ld returned 1 exit status\n"
    )
    found = parse_diagnostics(output, Path("/b/build-x"))
    assert found[0].file == "model.C" and found[0].line == 45 and found[0].kind == "error"
    assert "no matching function" in found[0].message
    assert any(item.file == "link" and "undefined reference" in item.message for item in found)
    assert found[-1].kind == "warning"


@pytest.mark.slow
def test_a_compile_error_comes_back_as_structured_feedback(compiler: None, tmp_path: Path) -> None:
    source, line = _broken()
    with pytest.raises(ModelCompileError) as caught:
        build_model(source, cache=tmp_path)
    first = caught.value.diagnostics[0]
    assert (first.file, first.line, first.kind) == ("model.C", line, "error")
    assert "did not compile" in str(caught.value) and f"model.C:{line}" in str(caught.value)
    assert not list(tmp_path.rglob("*.so")), "a failed build leaves nothing in the cache"


@pytest.mark.slow
def test_an_edit_the_allow_list_admits_compiles(compiler: None, tmp_path: Path) -> None:
    """The words the model-edit allow-list admits (and the prompt offers) make C++ the compiler accepts."""
    family = family_source()
    edit = family.replace(
        "return tanh(this->chi()/featureScale_);",
        'const dimensionedScalar c0("c0", dimless, 0.5);\n'
        "const volScalarField fs(sqrt(max(this->chi(), c0)) + 0.1*tr(gradU & gradU)/sqr(smallRate + mag(gradU)));\n"
        "const scalar w = 0.3;\n"
        'return tanh(w*fs/featureScale_)*(1.0 - exp(-this->y_/dimensionedScalar("l", dimLength, 1.0)));',
    )
    assert edit != family and foreign_tokens(edit, family) == []
    built = build_model(edit, cache=tmp_path)
    assert built.library.is_file() and not built.cached


def test_hostile_includes_are_contained_at_compile_time(
    compiler: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiler sees neither the host's secrets nor its files outside the build folder and the headers."""
    monkeypatch.setenv("LABGATE_TEST_TOKEN", "s3cr3t-value-from-the-host")
    planted = tmp_path / "secret.h"
    planted.write_text("#error s3cr3t-value-from-a-host-file\n")
    for target in ("/etc/shadow", str(planted), "/proc/self/environ"):
        try:
            build_model(f'#include "{target}"\nint x;\n', cache=tmp_path / "cache")
            text = ""
        except ModelCompileError as error:
            text = str(error) + error.output
        assert "s3cr3t-value" not in text
        assert "root:" not in text, f"{target} was readable inside the compiler's sandbox"
    with pytest.raises(ModelCompileError, match=r"Permission denied|No such file"):
        build_model('#include "/etc/shadow"\n', cache=tmp_path / "cache")
    with pytest.raises(ModelCompileError, match="No such file"):
        build_model(f'#include "{planted}"\n', cache=tmp_path / "cache")


ESCAPE = """
#include <cstdio>
namespace {
struct Escape {
    Escape() {
        if (FILE* f = std::fopen("ESCAPED", "w")) { std::fputs("escaped", f); std::fclose(f); }
        if (FILE* f = std::fopen("initializer-ran", "w")) { std::fputs("ran", f); std::fclose(f); }
    }
} escape;
}
"""


@pytest.mark.slow
@pytest.mark.openfoam
def test_the_corrected_model_matches_sa_at_zero_and_differs_otherwise(
    compiler: None, openfoam: None, bubblewrap: None, tmp_path: Path
) -> None:
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    fields = {}
    for name, sa in (
        ("stock", {}),
        ("zero", {"source": family_source()}),
        ("corrected", {"Cproduction": 0.5, "productionFeature": 1}),
        ("shear-layer", {"Cproduction": 4.0, "productionFeature": 5, "featureScale": 1.6}),
    ):
        spec = ExperimentSpec(key=name, task_id=task.id, params={**HILL_SMALL, "sa": sa})
        outcome = workload.run(task, spec, tmp_path / name, local_sandbox)
        assert outcome.status == "completed", outcome.error
        case = tmp_path / name / "case"
        fields[name] = (case / "60" / "nuTilda").read_text().split("internalField", 1)[1]
        if name != "stock":
            assert "SAcorrected" in (case / "log.simpleFoam").read_text()
            assert (case / "model" / "SAcorrected.C").is_file()
            roles = {item.role for item in outcome.files}
            assert "input:model/SAcorrected.C" in roles
    assert fields["stock"] == fields["zero"], "the family at zero correction is Spalart-Allmaras exactly"
    assert fields["stock"] != fields["corrected"]
    assert fields["shear-layer"] not in (fields["stock"], fields["corrected"])


def test_the_outer_low_chi_and_relaminarisation_features_are_named() -> None:
    low_chi = describe_form({"Cdestruction": -0.9, "destructionFeature": 6, "featureScale": 3.5})
    assert low_chi.startswith("destruction x (1 - 0.9 F[(1-exp(-d/(0.1 L))) exp(-chi/(50 scale))])")
    relaminarised = describe_form({"Cfv1": -0.9, "fv1Feature": 7})
    assert relaminarised.startswith("eddy viscosity x (1 - 0.9 F[relaminarisation")


@pytest.mark.slow
@pytest.mark.openfoam
def test_the_outer_low_chi_and_relaminarisation_switches_compile_and_change_the_flow(
    compiler: None, openfoam: None, bubblewrap: None, tmp_path: Path
) -> None:
    """Switch 6 on destruction and switch 7 on the eddy viscosity each change the flow, and not as the uniform
    feature at the same amplitude does (what an unknown switch value would silently run)."""
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    fields = {}
    for name, sa in (
        ("stock", {}),
        ("outer-low-chi", {"Cdestruction": -0.9, "destructionFeature": 6, "featureScale": 3.5}),
        ("uniform-destruction", {"Cdestruction": -0.9, "destructionFeature": 0, "featureScale": 3.5}),
        ("relaminarised", {"Cfv1": -0.9, "fv1Feature": 7}),
        ("uniform-viscosity", {"Cfv1": -0.9, "fv1Feature": 0}),
    ):
        spec = ExperimentSpec(key=name, task_id=task.id, params={**HILL_SMALL, "sa": sa})
        outcome = workload.run(task, spec, tmp_path / name, local_sandbox)
        assert outcome.status == "completed", outcome.error
        case = tmp_path / name / "case"
        fields[name] = {
            field: (case / "60" / field).read_text().split("internalField", 1)[1].split("boundaryField", 1)[0]
            for field in ("nuTilda", "nut")
        }
    assert fields["outer-low-chi"]["nuTilda"] not in (
        fields["stock"]["nuTilda"],
        fields["uniform-destruction"]["nuTilda"],
    )
    assert fields["relaminarised"]["nut"] not in (fields["stock"]["nut"], fields["uniform-viscosity"]["nut"])


@pytest.mark.slow
@pytest.mark.openfoam
def test_a_compile_error_makes_the_experiment_fail_with_the_diagnostics(compiler: None, tmp_path: Path) -> None:
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    source, line = _broken()
    spec = ExperimentSpec(key="broken", task_id=task.id, params={**HILL_SMALL, "sa": {"source": source}})
    outcome = workload.run(task, spec, tmp_path / "broken", local_sandbox)
    assert outcome.status == "error" and "did not compile" in (outcome.error or "")
    assert outcome.info["compile_errors"][0]["line"] == line


@pytest.mark.slow
@pytest.mark.openfoam
def test_a_hostile_static_initializer_is_contained_at_load_time(
    compiler: None, openfoam: None, bubblewrap: None, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    escaped = outside / "ESCAPED"
    source = family_source() + ESCAPE.replace('"ESCAPED"', json.dumps(str(escaped)))
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    spec = ExperimentSpec(key="hostile", task_id=task.id, params={**HILL_SMALL, "sa": {"source": source}})
    workload.run(task, spec, tmp_path / "hostile", local_sandbox)
    assert (tmp_path / "hostile" / "case" / "initializer-ran").is_file(), "the library was loaded by the solver"
    assert not escaped.exists(), "the solver's sandbox let the library write outside the case"


@pytest.mark.slow
def test_the_llm_model_proposer_gets_the_compiler_errors_back(compiler: None) -> None:
    """Through the scripted OpenAI-compatible server: a broken edit, its diagnostics sent back, a fix."""
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    task = task.model_copy(update={"params": {**task.params, "search": {"runs": 2, "population": 1, "family": "form"}}})
    space = workload.search_space(task)
    assert space is not None
    broken, line = _broken()
    first = {"source": broken, "values": {"Cproduction": 0.4, "productionFeature": 1}, "rationale": "more production"}
    fixed = {**first, "source": family_source(), "rationale": "more production in free shear layers"}
    rules = [
        Rule("This model was not run", [Reply(content=json.dumps(fixed))]),
        Rule("Propose one new model", [Reply(content=json.dumps(first))]),
    ]
    with ScriptedLLMServer(rules) as server:
        config = {"base_url": server.url, "model": "scripted", "api_key": SecretStr("sk-test"), "timeout_seconds": 60}
        proposer = LlmModelProposer(OpenAIChat(LLMConfig.model_validate(config)), "fit Cf")
        proposals = proposer.propose_models(space, [], 1, 0.003)
        assert len(server.requests) == 2
        sent_back = json.dumps(server.requests[1]["body"])
    assert f"model.C:{line}: error" in sent_back
    assert proposer.problems and proposer.problems[0].startswith(f"model.C:{line}: error")
    proposal = proposals[0]
    assert proposal.values["Cproduction"] == 0.4 and proposal.source is None
    assert proposal.rationale.startswith("LLM model edit (0 lines changed; production x (1 + 0.4 F[shielding fd])")
    assert os.environ.get("LABGATE_TEST_TOKEN") is None


def test_the_build_key_names_the_compiler_the_sandbox_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox compiles with its own PATH: a `g++` earlier on labgate's PATH (a wrapper, another toolchain)
    is not the one that builds the library, so it must not be the one the cache key names."""
    from tools.cfd.models._build import _compiler_identity

    before = _compiler_identity()
    wrapper = tmp_path / "g++"
    wrapper.write_text("#!/bin/sh\necho 'g++ (wrapper) 99.0'\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ.get('PATH', '')}")
    assert shutil.which("g++") == str(wrapper)
    assert _compiler_identity() == before and "wrapper" not in before
