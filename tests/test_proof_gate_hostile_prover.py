"""The proof gate when code runs inside coqc: its verdict must not rest on anything that code can forge.

A proof that found a way to run code inside coqc (a plugin option that reaches a shell, a bug in
Coq) controls the coqc process: it can write over the check file while coqc reads it and put it
back before coqc ends, print markers and an assumption list of its choice, and write a compiled
library of its own under the gate's name. These tests put such a process in coqc's place: the
configured coqc is a script that runs the real coqc for every file but the gate's check file, and
does one of those things there, printing the sentence positions coqc would print for it. The gate's
code paths are the real ones (sandbox, coqc, coqchk).
The sandbox tests at the end check the mechanism the first attack meets: a read-only path inside
the experiment directory stays read-only to everything in the sandbox.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandboxes import DockerSandboxes, LocalSandbox, Sandbox, SandboxPathError
from tests.conftest import docker_image
from tests.proof_gate_cases import FALSE_CLAIM, TRUE_CLAIM
from tests.test_proof_gate_hostile import sandbox_factory
from tools.proofs import CoqConfig, CoqProver, ProofProblem, problem_from_text
from verifiers.proofs import DEFAULT_ALLOWED_AXIOMS, GATE_COQ_ARGS, ProofVerdict, check_proof
from verifiers.proofs._check import header_postulates

# Run inside the sandbox in coqc's place. The behaviour spliced in at the end is what it does when handed
# the gate's check file (the only file with the candidate's module in it); any other file goes to the real coqc.
_HOSTILE_COQC = '''#!/usr/bin/python3
import os, re, shutil, subprocess, sys

REAL = {real!r}
args = sys.argv[1:]
source = next((arg for arg in args if arg.endswith(".v")), None)
text = open(source).read() if source else ""
found = re.search(r"Module LabgateCandidate_([0-9a-f]+)[ .]", text)
if found is None:
    os.execv(REAL, [REAL, *args])
suffix = found.group(1)
log = open("hostile.log", "a", buffering=1)  # line by line: an exec drops what is buffered


def forge(header, goal, proof):
    """Write the library Labgate.Check from a file of our own: `header`, `goal`, the gate's theorem name."""
    os.makedirs("/tmp/forge", exist_ok=True)
    with open("/tmp/forge/Check.v", "w") as out:
        out.write(header + "\\nDefinition labgate_goal_" + suffix + " : Type := " + goal + ".\\n")
        out.write("Theorem labgate_check_" + suffix + " : labgate_goal_" + suffix + ".\\n" + proof + "\\n")
    done = subprocess.run([REAL, "-q", "-Q", "/tmp/forge", "Labgate", "/tmp/forge/Check.v"], capture_output=True)
    log.write("forged: %d %s\\n" % (done.returncode, done.stderr.decode()[-500:]))
    shutil.copyfile("/tmp/forge/Check.vo", "Check.vo")


def echo_spans():
    """Print the sentence positions coqc -time prints for the check file, as a forger can (from a copy,
    so that the compiled library in place is not touched)."""
    os.makedirs("/tmp/spans", exist_ok=True)
    shutil.copyfile(source, "/tmp/spans/Check.v")
    done = subprocess.run([REAL, "-time", "-q", "Check.v"], capture_output=True, text=True, cwd="/tmp/spans")
    print("\\n".join(line for line in done.stdout.splitlines() if line.startswith("Chars ")))


def claim_closed():
    """Print a clean result in the shape coqc prints one (markers around "Closed under ...") and succeed."""
    echo_spans()
    for name in ("begin", "end"):
        print("labgate_%s_%s = I\\n     : True" % (name, suffix))
        if name == "begin":
            print("Closed under the global context")
    sys.exit(0)


{behaviour}
'''

# Write over the check file with a proof of `True`, compile that, put the original back.
_REWRITE = """
original = open(source, "rb").read()
head = text[: text.index("Definition labgate_goal_")]
forged = head + (
    "Definition labgate_goal_S : Type := True.\\nTheorem labgate_check_S : labgate_goal_S.\\nProof. exact I. Qed.\\n"
    "Definition labgate_begin_S := I.\\nDefinition labgate_end_S := I.\\nPrint labgate_begin_S.\\n"
    "Print Assumptions labgate_check_S.\\nPrint labgate_end_S.\\n"
).replace("_S", "_" + suffix)
try:
    with open(source, "r+b") as handle:
        handle.write(forged.encode())
        handle.truncate()
except OSError as error:
    log.write("rewrite refused: %s\\n" % error.strerror)
    os.execv(REAL, [REAL, *args])
done = subprocess.run([REAL, *args])
with open(source, "wb") as handle:
    handle.write(original)
log.write("rewritten and put back\\n")
sys.exit(done.returncode)
"""

# Compile the check file as it is, then print a clean assumption list instead of coqc's.
_LIE_ABOUT_ASSUMPTIONS = """
done = subprocess.run([REAL, *args], capture_output=True)
log.write("real coqc: %d\\n" % done.returncode)
claim_closed()
"""


def _forging(header: str, goal: str, proof: str) -> str:
    """Write a library of our own (`forge`) in place of the compiled check file, and claim success."""
    return f"forge({header!r}, {goal!r}, {proof!r})\nclaim_closed()\n"


def _hostile_coq(root: Path, behaviour: str) -> CoqConfig:
    """A Coq installation under `root` whose coqc does `behaviour` to the gate's check file; coqchk is Coq's."""
    real_coqc = shutil.which("coqc")
    real_coqchk = shutil.which("coqchk")
    assert real_coqc is not None and real_coqchk is not None
    binaries = root / "bin"
    binaries.mkdir(parents=True)
    script = binaries / "coqc"
    script.write_text(_HOSTILE_COQC.format(real=str(Path(real_coqc).resolve()), behaviour=behaviour))
    script.chmod(0o755)
    (binaries / "coqchk").symlink_to(Path(real_coqchk).resolve())
    return CoqConfig(coqc=str(script), args=GATE_COQ_ARGS)


def _judge(
    tmp_path: Path,
    problem: ProofProblem,
    proof: str,
    behaviour: str,
    allowed_axioms: tuple[str, ...] = DEFAULT_ALLOWED_AXIOMS,
) -> ProofVerdict:
    prover = CoqProver(tmp_path / "gate", sandbox_factory, _hostile_coq(tmp_path / "coq", behaviour), file_stem="Check")
    try:
        return check_proof(problem, proof, prover, allowed_axioms=allowed_axioms)
    finally:
        prover.close()


def _log(tmp_path: Path) -> str:
    log = tmp_path / "gate" / "hostile.log"
    return log.read_text() if log.exists() else ""


FALSE_PROOF = "Require Import Arith.\nTheorem false_claim : 2 + 2 = 5.\nProof. reflexivity. Qed.\n"
TRUE_PROOF = "Require Import Arith.\nTheorem true_claim : 2 + 2 = 4.\nProof. reflexivity. Qed.\n"

SHIFTED = problem_from_text(
    "proofs/shifted", "Definition f (n : nat) := n + 1.\n\nTheorem f_claim : f 1 = 3.\n"
)  # false: f 1 = 2
POSTULATED = problem_from_text(
    "proofs/postulated", "Parameter c : nat.\nAxiom c_one : c = 1.\n\nTheorem c_claim : c = 2.\n"
)  # false under c_one
COLOURS = problem_from_text(
    "proofs/colours", "Inductive colour := red | green.\n\nTheorem one_colour : forall x : colour, x = red.\n"
)  # false: green


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_the_hostile_coqc_runs_the_real_gate_and_an_honest_proof_still_passes(tmp_path: Path) -> None:
    verdict = _judge(tmp_path, TRUE_CLAIM, TRUE_PROOF, "os.execv(REAL, [REAL, *args])")
    assert verdict.decision == "accept", verdict.reasons
    assert verdict.checker_seconds > 0


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_the_check_file_cannot_be_written_over_while_coqc_reads_it(tmp_path: Path) -> None:
    # Before the check file was bound read-only, the rewrite went through, coqc compiled a proof of
    # `True` under the gate's names, printed a clean list, and the original was back in place by the
    # time the gate compared it: the false claim was accepted.
    verdict = _judge(tmp_path, FALSE_CLAIM, FALSE_PROOF, _REWRITE)
    assert "rewrite refused: Read-only file system" in _log(tmp_path)
    assert verdict.decision == "reject", "a proof of 2 + 2 = 5 was accepted"
    assert verdict.reasons[0].startswith("Coq rejects the proof"), verdict.reasons
    assert (tmp_path / "gate" / "Check.v").read_text() == verdict.check_source


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_forged_assumption_list_is_not_read(tmp_path: Path) -> None:
    # A sound proof through `classic`, with the axiom allow-list empty: coqc's own list names it, the
    # hostile one prints "Closed". The second phase prints the list of the compiled library itself.
    proof = (
        "Require Import Arith.\nRequire Import Classical.\nTheorem true_claim : 2 + 2 = 4.\n"
        "Proof. destruct (classic (2 + 2 = 4)) as [yes | no]; [exact yes | exfalso; apply no; reflexivity]. Qed.\n"
    )
    verdict = _judge(tmp_path, TRUE_CLAIM, proof, _LIE_ABOUT_ASSUMPTIONS, allowed_axioms=())
    assert "real coqc: 0" in _log(tmp_path)
    assert verdict.decision == "reject"
    assert any("Classical_Prop.classic" in reason and "allow-list" in reason for reason in verdict.reasons)
    assert [entry.name for entry in verdict.assumptions] == ["Classical_Prop.classic"]


@pytest.mark.parametrize(
    ("problem", "forged", "reason"),
    [
        (
            FALSE_CLAIM,
            _forging("Require Import Arith.", "True", "Proof. exact I. Qed."),
            "is not a proof of the task's statement",
        ),
        (
            SHIFTED,
            _forging("Definition f (n : nat) := n + 2.", "f 1 = 3", "Proof. reflexivity. Qed."),
            "field f do not match",
        ),
        (
            COLOURS,
            _forging(
                "Inductive colour := red.",
                "forall x : colour, x = red",
                "Proof. intros x. destruct x. reflexivity. Qed.",
            ),
            "field colour do not match",
        ),
        (
            POSTULATED,
            _forging("Definition c : nat := 2.\nAxiom c_one : c = 1.", "c = 2", "Proof. reflexivity. Qed."),
            "coqchk finds no axiom c in the checked file",
        ),
        (
            TRUE_CLAIM,
            _forging(
                'Require Import Arith.\nDeclare ML Module "threads.posix".', "2 + 2 = 4", "Proof. reflexivity. Qed."
            ),
            "loads the OCaml module threads.posix",
        ),
    ],
    ids=[
        "another statement",
        "another definition in the header",
        "another inductive type in the header",
        "a postulate of the header made a definition",
        "an OCaml module that is no Coq plugin",
    ],
)
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_library_written_in_place_of_the_compiled_proof_is_refused(
    tmp_path: Path, problem: ProofProblem, forged: str, reason: str
) -> None:
    # Each forged library passes coqchk and compiles without an error, and the hostile coqc prints
    # the clean list the gate once read from coqc; only the second phase tells.
    proof = f"{problem.header}\n{problem.statement}\nProof. reflexivity. Qed.\n"  # what coqc makes of it is moot
    verdict = _judge(tmp_path, problem, proof, forged)
    assert "forged: 0" in _log(tmp_path), _log(tmp_path)
    assert verdict.decision == "reject", f"{problem.id}: a forged library was accepted"
    assert any(reason in text for text in verdict.reasons), verdict.reasons


# The mechanism: a read-only path inside the experiment directory, in both backends.

_WRITER = """import os
for path in ("input.v", "shelf/library.vo", "output.txt"):
    try:
        with open(path, "a") as handle:
            handle.write("changed")
        print(path, "written")
    except OSError as error:
        print(path, "refused", error.errno)
attempts = (
    ("rename", lambda: os.rename("input.v", "moved.v")),
    ("chmod", lambda: os.chmod("input.v", 0o666)),
    ("unlink", lambda: os.unlink("shelf/library.vo")),
    ("add", lambda: open("shelf/new", "w")),
)
for attempt, call in attempts:
    try:
        call()
        print(attempt, "done")
    except OSError as error:
        print(attempt, "refused", error.errno)
"""


def _prepare(workdir: Path) -> tuple[Path, Path]:
    (workdir / "input.v").write_text("original")
    (workdir / "shelf").mkdir()
    (workdir / "shelf" / "library.vo").write_text("compiled")
    (workdir / "output.txt").write_text("")
    return workdir / "input.v", workdir / "shelf"


def _assert_read_only(sandbox: Sandbox, workdir: Path) -> None:
    result = sandbox.exec(["python3", "-c", _WRITER], timeout=60)
    lines = set(result.stdout.splitlines())
    refused = {errno.EROFS, errno.EBUSY, errno.EXDEV}
    assert "output.txt written" in lines, result.stdout + result.stderr
    for name in ("input.v", "shelf/library.vo", "rename", "chmod", "unlink", "add"):
        line = next((line for line in lines if line.startswith(name + " ")), "")
        assert line.split()[1:2] == ["refused"] and int(line.split()[2]) in refused, (name, result.stdout)
    assert (workdir / "input.v").read_text() == "original"
    assert (workdir / "shelf" / "library.vo").read_text() == "compiled"
    assert not (workdir / "shelf" / "new").exists() and not (workdir / "moved.v").exists()


@pytest.mark.usefixtures("bubblewrap")
def test_a_read_only_path_inside_the_directory_stays_read_only_in_the_local_backend(tmp_path: Path) -> None:
    workdir = (tmp_path / "experiment").resolve()
    workdir.mkdir()
    sandbox = LocalSandbox(workdir=workdir, ro_paths=_prepare(workdir))
    try:
        _assert_read_only(sandbox, workdir)
    finally:
        sandbox.close()


@pytest.mark.docker
def test_a_read_only_path_inside_the_directory_stays_read_only_in_the_docker_backend(tmp_path: Path) -> None:
    pool = DockerSandboxes(docker_image("coq"))
    workdir = (tmp_path / "experiment").resolve()
    workdir.mkdir()
    try:
        sandbox = pool(workdir, ro_paths=_prepare(workdir))
        try:
            _assert_read_only(sandbox, workdir)
        finally:
            sandbox.close()
    finally:
        pool.close()


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A directory whose read-only input an earlier command replaced by a link to a host file."""
    secret = tmp_path / "host-secret"
    secret.write_text("host only")
    workdir = (tmp_path / "experiment").resolve()
    workdir.mkdir()
    (workdir / "input.v").write_text("original")
    yield workdir, secret


@pytest.mark.usefixtures("bubblewrap")
def test_a_link_left_in_place_of_a_read_only_path_is_not_followed(planted: tuple[Path, Path]) -> None:
    workdir, secret = planted
    sandbox = LocalSandbox(workdir=workdir, ro_paths=(workdir / "input.v",))
    try:
        assert sandbox.exec(["cat", "input.v"], timeout=30).stdout == "original"
        (workdir / "input.v").unlink()
        os.symlink(secret, workdir / "input.v")  # as a command of the sandbox could (its uid owns the directory)
        with pytest.raises(SandboxPathError, match="not a real file or directory"):
            sandbox.exec(["cat", str(secret)], timeout=30)
    finally:
        sandbox.close()
    assert secret.read_text() == "host only"


@pytest.mark.usefixtures("bubblewrap")
def test_a_read_only_path_named_through_a_link_above_the_directory_is_still_inside(tmp_path: Path) -> None:
    # The caller may name the directory through a link of the host's own (a `/tmp` that is a link):
    # the path is still inside, and mounted over the directory, not under it.
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    workdir = tmp_path / "alias" / "experiment"
    workdir.mkdir()
    (workdir / "input.v").write_text("original")
    sandbox = LocalSandbox(workdir=workdir, ro_paths=(workdir / "input.v",))
    try:
        result = sandbox.exec(["sh", "-c", "echo changed > input.v"], timeout=30)
    finally:
        sandbox.close()
    assert "Read-only file system" in result.stderr, result.stderr
    assert (real / "experiment" / "input.v").read_text() == "original"


def test_the_postulates_of_a_header_are_its_top_level_axioms() -> None:
    problem = problem_from_text(
        "proofs/postulates",
        "Require Import Arith.\nParameter c : nat.\n#[local] Axiom a1 : c = c.\nLocal Parameters (p q : nat).\n"
        "Section S. Variable n : nat. Hypothesis hn : n = n. Definition addn m := n + m. End S.\n"
        "Module M. Axiom inner : True. End M.\nModule N := M.\nContext (x : nat).\n\nTheorem t : c = c.\n",
    )
    assert header_postulates(problem) == ("c", "a1", "p", "q", "x")


@pytest.mark.usefixtures("bubblewrap")
def test_a_read_only_path_in_a_subfolder_is_refused_since_the_subfolder_could_be_renamed(tmp_path: Path) -> None:
    """`spec/` renamed away and a new `spec/theorem.v` written left the host reading a forged file."""
    workdir = (tmp_path / "experiment").resolve()
    (workdir / "spec").mkdir(parents=True)
    (workdir / "spec" / "theorem.v").write_text("original")
    with pytest.raises(SandboxPathError, match="inside a subfolder of the experiment directory"):
        LocalSandbox(workdir=workdir, ro_paths=(workdir / "spec" / "theorem.v",)).exec(["true"], timeout=30)
    sandbox = LocalSandbox(workdir=workdir, ro_paths=(workdir / "spec",))
    try:
        result = sandbox.exec(["sh", "-c", "mv spec spec.orig || echo refused"], timeout=30)
    finally:
        sandbox.close()
    assert "refused" in result.stdout, result.stdout + result.stderr
    assert (workdir / "spec" / "theorem.v").read_text() == "original"
