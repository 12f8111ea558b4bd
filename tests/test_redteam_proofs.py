"""The proof gate against Coq 8.16.1's own unsound corners, reached past the text rules.

Coq 8.16.1's guard checker (kernel and coqchk alike) accepts some non-structural recursion (rocq
issue #20455), and its conversion is unsound on SProp let-ins in constructors (rocq #22378): in
both cases all of Coq proves `2 + 2 = 5` with no axiom, and only the gate's own rules stand in the
way. Each attack here was accepted by all three judges before the rule it names was fixed.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from tests.proof_gate_cases import (
    BRACKETED_FIX,
    FALSE_CLAIM,
    GUARD_BUG,
    GUARD_HELPERS,
    HIDDEN_BY_SYMBOLS,
    guard_term,
)
from tools.proofs import CoqProver, problem_from_text
from verifiers.proofs import (
    DEFAULT_ALLOWED_AXIOMS,
    ProofFileReport,
    build_check_file,
    check_proof,
    judge_assumptions,
    kernel_check,
    lint_proof_file,
    parse_assumptions,
)
from verifiers.proofs._check import SPROP_OFF

# The same recursion in a structural `Function` whose binder type merely mentions `wf` (read as a
# `{wf ...}` annotation, so the rules expected a termination proof), then `Goal` named as a tactic
# so that the rules' "termination proof" closes where Coq proves a goal of its own.
FUNCTION_NAMING_WF = f"""Require Import Arith.
Require Import Recdef.
Tactic Notation "Goal" constr(x) := idtac.
{GUARD_HELPERS}
Function issue (n : nat) (w : {{wf : nat | True}}) {{struct n}} : not_zero n -> False :=
{guard_term("issue arg w")}.
Goal True.
exact I. Qed.
Theorem false_claim : 2 + 2 = 5.
Proof. exact (False_ind _ (issue 1 (exist _ 0 I) I)). Qed.
"""


def _sprop_pair(ghost_type: str, ghost: str, prelude: str = "") -> str:
    """rocq #22378: two fields told apart only through a constructor's SProp let-ins are equal."""
    return f"""Require Import Arith.
{prelude}
Inductive pair_with_lets : Type :=
| pack (x y : bool) (ghost1 : {ghost_type} := {ghost}) (ghost2 : {ghost_type} := {ghost}).
Definition left (p : pair_with_lets) : bool := match p with pack x y ghost1 ghost2 => x end.
Definition right (p : pair_with_lets) : bool := match p with pack x y ghost1 ghost2 => y end.
Definition collision (p : pair_with_lets) : left p = right p := eq_refl.
Lemma contradiction : False.
Proof. pose proof (collision (pack true false)) as h. cbn in h. discriminate h. Qed.
Theorem false_claim : 2 + 2 = 5.
Proof. exact (False_ind _ contradiction). Qed.
"""


SPROP_WRITTEN = _sprop_pair(
    "sUnit", "stt", "Definition sUnit : SProp := forall P : SProp, P -> P.\nDefinition stt : sUnit := fun P p => p."
)
SPROP_FROM_THE_LIBRARY = _sprop_pair("Squash unit", "squash tt", "Require Import Coq.Logic.StrictProp.")
# The sort read off `eq_sind`'s type by Ltac: no word of the file names SProp.
SPROP_UNNAMED = _sprop_pair(
    "sUnit",
    "stt",
    "Definition S := ltac:(match type of eq_sind with forall _ _ (P : _ -> ?s), _ => exact s end).\n"
    "Definition sUnit : S := forall P : S, P -> P.\nDefinition stt : sUnit := fun P p => p.",
)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (BRACKETED_FIX, "writes its own recursion (`fix`)"),
        (FUNCTION_NAMING_WF, "`Function` defines"),
        (SPROP_WRITTEN, "uses the sort SProp"),
        (SPROP_FROM_THE_LIBRARY, "`Require Coq.Logic.StrictProp` loads a library that is not allowed"),
        (SPROP_UNNAMED, '"Allow StrictProp" flag is off'),
    ],
    ids=[
        "fix behind a notation bracket",
        "structural Function naming wf, Goal as a tactic",
        "SProp let-ins",
        "SProp let-ins from StrictProp",
        "SProp let-ins with the sort unnamed",
    ],
)
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_proofs_of_false_that_coq_accepts_are_rejected(coq_gate: CoqProver, source: str, reason: str) -> None:
    verdict = check_proof(FALSE_CLAIM, source, coq_gate)
    assert verdict.decision == "reject", "a proof of 2 + 2 = 5 was accepted"
    assert any(reason in item for item in verdict.reasons), verdict.reasons


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_sprop_let_ins_pass_all_of_coq_so_the_check_file_switches_sprop_off(coq_gate: CoqProver) -> None:
    body = SPROP_UNNAMED.split("\n", 1)[1].rsplit("Theorem false_claim", 1)[0]
    report = ProofFileReport(
        body=f"{body}\nTheorem false_claim : 2 + 2 = 5.\nProof. exact (False_ind _ contradiction). Qed.\n"
    )
    layout = build_check_file(FALSE_CLAIM, report)
    assert layout.source.startswith(SPROP_OFF + "\n")
    if coq_gate.version().startswith("8.16"):
        # Without the flag, coqc and Print Assumptions accept a proof of 2 + 2 = 5 (coqchk too): only the
        # fixpoint audit, which refuses SProp in the compiled terms, stands in the way ...
        unguarded = dataclasses.replace(layout, source=layout.source.replace(SPROP_OFF, "", 1))
        verdict = kernel_check(FALSE_CLAIM, unguarded, coq_gate, DEFAULT_ALLOWED_AXIOMS, 60.0)
        assert verdict.decision == "reject" and verdict.assumptions == [], verdict.reasons
        assert all("audit refuses" in reason and "SProp" in reason for reason in verdict.reasons), verdict.reasons
    # ... and with it the kernel refuses the sort.
    verdict = kernel_check(FALSE_CLAIM, layout, coq_gate, DEFAULT_ALLOWED_AXIOMS, 60.0)
    assert verdict.decision == "reject" and any("StrictProp" in reason for reason in verdict.reasons)


def _problems(body: str, proof: str = "Proof. exact I. Qed.") -> list[str]:
    problem = problem_from_text("proofs/t", "Theorem t : True.\n")
    return lint_proof_file(problem, f"{body}\nTheorem t : True.\n{proof}\n").problems


@pytest.mark.parametrize(
    "body",
    [
        "Definition d := ⟪fix f (n : nat) : nat := f n⟫.",
        "Definition d := (→cofix f : nat := f).",
        "Definition d := ²fix f (n : nat) : nat := f n.",
        "Definition d := ×fix f (n : nat) : nat := f n.",
        "Definition d := 1fix f (n : nat) : nat := f n.",
    ],
)
def test_a_symbol_before_a_keyword_does_not_hide_it(body: str) -> None:
    assert any("writes its own recursion" in problem for problem in _problems(body)), _problems(body)


@pytest.mark.parametrize(
    "body",
    [
        "Definition fix_it := 1.\nDefinition d := Nat.add fix_it 1.",
        "Definition x'fix := 1.",
        "Definition d := Coq.Init.Nat.add 1 1.",
        "Notation \"x '.+1'\" := (S x) (at level 2).\nDefinition d := 0.+1.",
        'Infix "+++" := app (at level 60).',
        'Tactic Notation "my_tac" constr(x) := idtac.',
    ],
)
def test_names_that_merely_contain_a_keyword_stay_allowed(body: str) -> None:
    assert _problems(body) == []


@pytest.mark.parametrize("source", list(HIDDEN_BY_SYMBOLS.values()), ids=list(HIDDEN_BY_SYMBOLS))
def test_a_keyword_behind_a_symbol_of_the_files_own_is_seen(source: str) -> None:
    problems = lint_proof_file(FALSE_CLAIM, source).problems
    assert problems, "the text rules passed a proof of 2 + 2 = 5"
    assert any(
        "writes its own recursion (`fix`)" in item
        or "declares a symbol" in item
        or "put a blank before" in item
        or "does not read as a blank" in item
        for item in problems
    ), problems


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_keyword_behind_a_symbol_proves_false_in_coq_and_is_rejected(coq_gate: CoqProver, tmp_path: Path) -> None:
    assert_coq_proves_it_and_the_gate_refuses(
        HIDDEN_BY_SYMBOLS["symbol ending in '.'"], "writes its own recursion (`fix`)", coq_gate, tmp_path
    )


def assert_coq_proves_it_and_the_gate_refuses(source: str, reason: str, coq_gate: CoqProver, tmp_path: Path) -> None:
    """The payload is real (plain coqc 8.16 compiles its proof of 2 + 2 = 5), and the gate rejects it for `reason`."""
    if coq_gate.version().startswith("8.16"):
        (tmp_path / "payload.v").write_text(source)
        ran = subprocess.run(
            ["coqc", "-q", "payload.v"], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, ran.stderr
    verdict = check_proof(FALSE_CLAIM, source, coq_gate)
    assert verdict.decision == "reject", "a proof of 2 + 2 = 5 was accepted"
    assert any(reason in item for item in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(
    "body",
    [
        # `=_D` (Reals' Rtopology) is a symbol ending in a letter that every `Require Import Reals` declares.
        "Require Import Reals.\nDefinition d := fun D : R -> Prop => D =_Dfix f (n : nat) : nat := f n.",
        "Definition αfix := 1.\nDefinition d := αfix.",  # doubtful non-ASCII letters are read as symbols
        "Definition d := 1.fix f (n : nat) : nat := f n.",
    ],
    ids=["a library symbol ending in a letter", "after a non-ASCII letter", "after a number's dot"],
)
def test_a_keyword_a_symbol_may_have_split_off_is_refused(body: str) -> None:
    assert any("writes its own recursion" in problem for problem in _problems(body)), _problems(body)


@pytest.mark.parametrize(
    ("declaration", "named"),
    [
        ('Infix "=_X" := eq (at level 70).', "`=_X`"),
        ('Tactic Notation "b%a" tactic(t) := t.', "`b%a`"),
        ('Reserved Notation "x %\' y" (at level 50).', "`%'`"),
        ('Notation "x <(*> y" := (x + y) (at level 50).', "comment bracket"),
    ],
)
def test_a_symbol_ending_in_name_characters_is_refused_wherever_declared(declaration: str, named: str) -> None:
    problems = _problems(declaration)
    assert any("declares a symbol" in problem and named in problem for problem in problems), problems


def test_mutual_lemmas_behind_a_symbol_are_seen() -> None:
    body = 'Notation "x ²" := x (at level 1).\nLemma a : (2 + 2 = 5)²with b : 2 + 2 = 5.\nProof. exact b. exact a. Qed.'
    assert any("mutual definitions" in problem for problem in _problems(body))


@pytest.mark.parametrize(
    "body",
    [
        "Function f (n : nat) (w : {wf : nat | True}) {struct n} : nat := 0.",
        "Function f (n : nat) (w : { wf & True }) : nat := 0.",
        'Function f (n : nat) : nat := let _ := "{measure n}" in 0.',
        "Function f (n : nat) {measure id n} : nat := 0.\nProof. auto. Defined.",
        "Function f {A : Type} (n : nat) {wf lt n} : nat := 0.\nProof. auto. Defined.",
    ],
)
def test_every_function_is_refused_well_founded_or_not(body: str) -> None:
    """Reading a termination annotation is a permission the text could steer (see the sixth pass)."""
    problems = _problems("Require Import Recdef.\n" + body)
    assert any("`Function` defines" in problem for problem in problems), problems


@pytest.mark.parametrize(
    "definition",
    [
        'Tactic Notation "Goal" constr(x) := idtac.',
        "Ltac Export := idtac.",
        "Local Ltac Strategy := idtac.",
        'Tactic Notation (at level 0) "Definition" := idtac.',
    ],
)
def test_a_tactic_named_like_a_command_is_refused(definition: str) -> None:
    assert any("like Coq's command" in problem for problem in _problems(definition)), _problems(definition)


def test_a_command_never_passes_as_a_tactic_inside_a_proof() -> None:
    # Inside a proof Coq parses `Export Set ...` as the command even where a tactic has that name.
    problems = _problems("Ltac Export := idtac.", "Proof. Export Set Definitional UIP. exact I. Qed.")
    assert any("not allowed inside the proof" in problem for problem in problems), problems


def test_a_class_without_fields_opens_no_proof() -> None:
    # `Class C : Prop.` declares an empty class; the rules must not expect a proof after it.
    assert _problems("Class C : Prop.\nClass D.") == []


def test_only_a_typed_entry_is_read_as_an_axiom() -> None:
    # Coq 8.16 lists `X relies on definitional UIP.` under `Axioms:`; an inductive named like an
    # allowed axiom must not pass for that axiom.
    entries = parse_assumptions("Axioms:\nclassic relies on definitional UIP.\n")
    assert entries is not None and [entry.kind for entry in entries] == ["other"]
    assert judge_assumptions(entries, DEFAULT_ALLOWED_AXIOMS)
    typed = parse_assumptions("Axioms:\nclassic : forall P : Prop, P \\/ ~ P\n")
    assert typed is not None and judge_assumptions(typed, DEFAULT_ALLOWED_AXIOMS) == []


@pytest.mark.parametrize(
    "tactic", ["exact_no_check I", "vm_cast_no_check I", "change_no_check True", "(exact_no_check I)"]
)
def test_tactics_that_skip_the_type_check_are_refused(tactic: str) -> None:
    # Coq's VM evaluates what they let in before Qed re-types it (rocq #16891: memory corruption).
    problems = _problems("", f"Proof. {tactic}. Qed.")
    assert any("skips the type check" in problem for problem in problems), problems


@pytest.mark.parametrize(
    "body",
    [
        "Polymorphic Inductive box@{u} (A : Type@{u}) : Type@{u} := wrap (a : A).",
        "Cumulative Inductive box (A : Type) : Type := wrap (a : A).",
        "Polymorphic Cumulative Inductive box (A : Type) : Type := wrap (a : A).",
        "#[universes(polymorphic)] Definition same@{u} (A : Type@{u}) (a : A) := a.",
        "#[universes(cumulative)] Inductive box (A : Type) : Type := wrap (a : A).",
        "#[universes(polymorphic=yes), local] Definition d := 1.",
        "#[ universes ( cumulative ) ] Inductive box (A : Type) : Type := wrap (a : A).",
        "Local Polymorphic Definition d := 1.",
    ],
)
def test_a_universe_polymorphic_or_cumulative_declaration_is_refused(body: str) -> None:
    # Coq 8.16.1's universe substitutions and variance inference (rocq #21688, #22376) prove `False`
    # in the kernel and coqchk alike; a proof file has no use for universe polymorphism of its own.
    problems = _problems(body)
    assert any("universe-polymorphic or cumulative" in problem for problem in problems), problems


@pytest.mark.parametrize(
    "body",
    [
        "Monomorphic Definition d := 1.",
        "NonCumulative Inductive box (A : Type) : Type := wrap (a : A).",
        "#[universes(monomorphic)] Definition d := 1.",
        "Definition twice (l : list nat) := (l ++ l, length l).",
    ],
)
def test_monomorphic_declarations_and_the_libraries_polymorphic_constants_stay_allowed(body: str) -> None:
    assert _problems(body) == []


# rocq #19402 (VM, not fixed in 8.16.1): the VM computes `addmuldiv 65536 max max` as `max`, the
# kernel's own reduction as 0; coqc accepts the proof, its primitives show in `Print Assumptions`,
# and coqchk (no VM) re-reduces and refuses.
VM_ADDMULDIV = """Require Import Arith.
Require Import Coq.Numbers.Cyclic.Int63.Uint63.
Open Scope uint63_scope.
Lemma by_the_vm : addmuldiv 65536 9223372036854775807 9223372036854775807 = 9223372036854775807.
Proof. vm_compute. reflexivity. Qed.
Lemma by_the_kernel : addmuldiv 65536 9223372036854775807 9223372036854775807 = 0.
Proof. compute. reflexivity. Qed.
Lemma contradiction : False.
Proof.
  assert (h : (9223372036854775807 =? 0) = true) by (rewrite <- by_the_vm, by_the_kernel; reflexivity).
  discriminate h.
Qed.
Close Scope uint63_scope.
Theorem false_claim : 2 + 2 = 5.
Proof. exact (False_ind _ contradiction). Qed.
"""
_PRIMITIVES = ("PrimInt63.int", "PrimInt63.eqb", "PrimInt63.addmuldiv")


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_vm_bug_meets_print_assumptions_and_coqchk(coq_gate: CoqProver) -> None:
    verdict = check_proof(FALSE_CLAIM, VM_ADDMULDIV, coq_gate)
    assert verdict.decision == "reject", "a proof of 2 + 2 = 5 was accepted"
    assert any("PrimInt63.addmuldiv" in reason for reason in verdict.reasons), verdict.reasons
    # Even where a task allowed the primitives, coqchk re-reduces without the VM and refuses.
    allowed = (*DEFAULT_ALLOWED_AXIOMS, *_PRIMITIVES)
    verdict = check_proof(FALSE_CLAIM, VM_ADDMULDIV, coq_gate, allowed_axioms=allowed)
    assert verdict.decision == "reject", "a proof of 2 + 2 = 5 was accepted"
    if coq_gate.version().startswith("8.16"):
        assert any("coqchk" in reason for reason in verdict.reasons), verdict.reasons


# Hidden between two notation symbols that Coq reads as code and the gate's splitter read as the two ends
# of a comment (the guard bug of tests/proof_gate_cases.py, or SProp): Coq ran every sentence between them,
# no text rule saw one.
_SPROP_HIDDEN = """Set Allow StrictProp.
Definition sUnit : SProp := forall P : SProp, P -> P.
Definition stt : sUnit := fun P p => p.
Inductive pair_with_lets : Type :=
| pack (x y : bool) (ghost1 : sUnit := stt) (ghost2 : sUnit := stt).
Definition left (p : pair_with_lets) : bool := match p with pack x y ghost1 ghost2 => x end.
Definition right (p : pair_with_lets) : bool := match p with pack x y ghost1 ghost2 => y end.
Definition collision (p : pair_with_lets) : left p = right p := eq_refl.
Lemma contradiction : False.
Proof. pose proof (collision (pack true false)) as h. cbn in h. discriminate h. Qed.
Definition boom : 2 + 2 = 5 := False_ind _ contradiction."""
_COMMENT_TOKENS = """Notation "x %(* y" := (x + y) (at level 50, left associativity).
Notation "x *)% y" := (x + y) (at level 50, left associativity).
Definition hide_start := 0 %(* 0."""
_SPLIT_TOKENS = """Notation "x %( y" := (x + y) (at level 50, left associativity).
Notation "'*' x" := (x) (at level 0, x at level 0).
Notation "'<<' x '*'" := (x) (at level 0, x at level 0).
Definition hide_start := 0 %(* 0."""


def _hidden(opening: str, hidden: str, closing: str) -> str:
    return (
        f"Require Import Arith.\n{opening}\n{hidden}\n{closing}\n"
        "Theorem false_claim : 2 + 2 = 5.\nProof. exact boom. Qed.\n"
    )


@pytest.mark.parametrize(
    "source",
    [
        _hidden(_COMMENT_TOKENS, GUARD_BUG, "Definition hide_end := 0 *)% 0."),
        _hidden(_COMMENT_TOKENS, _SPROP_HIDDEN, "Definition hide_end := 0 *)% 0."),
        _hidden(_SPLIT_TOKENS, GUARD_BUG, "Definition hide_end := (<< 0 *)."),
        _hidden(_SPLIT_TOKENS, "Definition quiet := 0.\n" + GUARD_BUG, "Definition hide_end := (<< 0 *)."),
    ],
    ids=["'%(*' ... '*)%' around the guard bug", "... around SProp", "'%(' '*' ... '(<<' '*)'", "several hidden"],
)
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_sentences_coq_runs_inside_what_the_gate_reads_as_a_comment_are_refused(
    coq_gate: CoqProver, source: str
) -> None:
    verdict = check_proof(FALSE_CLAIM, source, coq_gate)
    assert verdict.decision == "reject", "a proof of 2 + 2 = 5 was accepted"
    assert any("put a blank before '(*'" in reason for reason in verdict.reasons), verdict.reasons
    # Past the text rules, the kernel check on its own refuses it too: coqc ran sentences the gate never read.
    layout = build_check_file(FALSE_CLAIM, ProofFileReport(body=source.split("\n", 1)[1]))
    verdict = kernel_check(FALSE_CLAIM, layout, coq_gate, DEFAULT_ALLOWED_AXIOMS, 60.0)
    assert verdict.decision == "reject", "the kernel check alone accepted a proof of 2 + 2 = 5"
    assert any("read as part of a comment" in reason for reason in verdict.reasons), verdict.reasons


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_proof_with_bullets_braces_notations_and_non_ascii_text_is_read_as_coq_runs_it(coq_gate: CoqProver) -> None:
    """The sentence match must not refuse honest files: every sentence shape Coq has, comments and
    strings with non-ASCII text (offsets are bytes for Coq, characters for the gate), CRLF line ends."""
    problem = problem_from_text("proofs/t", "Require Import Arith.\n\nTheorem t : 1 = 1 /\\ 2 = 2 /\\ 3 = 3.\n")
    proof = (
        "Require Import Arith.\r\nRequire Import Coq.Strings.String.\n"
        '(* début: « commentaire » (* imbriqué *) "*)" *)\n'
        "#[local] Notation \"x '.+1'\" := (S x) (at level 2).\n"
        'Definition label := "λ → ∀ (* not a comment *)"%string.\n'
        "Theorem t : 1 = 1 /\\ 2 = 2 /\\ 3 = 3.\n"
        "Proof with auto.\n  split; [|split].\n  - reflexivity...\n  - { reflexivity. }\n"
        "  - assert (0.+1 = 1) by reflexivity. (* ∎ *) reflexivity.\nQed.\n"
    )
    verdict = check_proof(problem, proof, coq_gate)
    assert verdict.decision == "accept", verdict.reasons


def test_a_proof_holding_a_lone_surrogate_is_rejected_with_a_reason(coq_gate: CoqProver) -> None:
    verdict = check_proof(FALSE_CLAIM, "Theorem false_claim : 2 + 2 = 5.\nProof. (* \ud800 *) Admitted.\n", coq_gate)
    assert verdict.decision == "reject"
    assert any("not Unicode text" in reason for reason in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(
    "body",
    [
        'Notation "x %( y" := (x + y) (at level 50).\nDefinition d := 0 %(* fix f (n : nat) : nat := f n *) 0.',
        "Definition d := S(* c *)0.\nDefinition e := d.(* c *)",
        "Definition d := (→(* c *) 0).",
        "Definition d := 0.\nDefinition e := (0)(* c *).",
        "Definition d := 0.\nDefinition e := d(* a symbol `d(` would make this code *).",
    ],
    ids=["symbol '%('", "after '.'", "after a Unicode symbol", "after ')'", "after a name"],
)
def test_a_comment_glued_to_a_symbol_is_refused_by_the_text_rules(body: str) -> None:
    """Within one sentence the span match cannot see the difference: `Definition d := 0 %(* fix ... *) 0.`
    is one sentence for Coq and for the gate, and only the gate skips its `fix`."""
    assert any("put a blank before '(*'" in problem for problem in _problems(body)), _problems(body)


@pytest.mark.parametrize(
    "body",
    [
        "(* a comment *) Definition d := 0. (* another *)",
        "Definition d := S (* c *) 0.\nDefinition e := d (* after a blank *).",
        'Definition s := "x"(* after a string *).',
        "(* (* nested *) %(* inside a comment is not lexed *) *)",
    ],
)
def test_comments_after_a_blank_or_a_string_stay_allowed(body: str) -> None:
    assert _problems(body) == []


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ("Definition d :=\v0.", True),
        ("Definition d :=\f0.", True),
        ("(* a comment with a form feed \f *) Definition d := 0.", True),
        ("Definition d :=\u00a00.", True),
        ("Definition d :=\u200b0.", True),
        ("(* \u00aba comment with non-breaking spaces\u00a0\u00bb *) Definition d := 0.", False),
        ('Definition s := "a string with a non-breaking space \u00a0".', False),
        ("Definition d :=\t0.\r\nDefinition e := d.", False),
    ],
)
def test_only_coqs_own_blanks_separate_code(body: str, refused: bool) -> None:
    problems = _problems(body)
    assert any("does not read as a blank" in problem for problem in problems) == refused, problems
