"""The proof gate's hostile battery and its honest controls, shared by the tests and `bench/cheats_proofs.py`.

Every cheat is aimed at a statement that is false or at miniF2F statements with a changed
meaning, so an accepted cheat is a real unsoundness, not a style slip. The honest controls are
proofs an honest prover writes (the built-in search's kind: lia, nia, lra, field, computation,
Coquelicot, helper lemmas and tactics of its own) and must be accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.proofs import ProofProblem, isabelle_problem, lean_problem, problem_from_text, resolve_problem

FALSE_CLAIM = problem_from_text("proofs/false-claim", "Require Import Arith.\n\nTheorem false_claim : 2 + 2 = 5.\n")
"""A user task file with a false arithmetic claim: whatever proves it proves `False`."""

TRUE_CLAIM = problem_from_text("proofs/true-claim", "Require Import Arith.\n\nTheorem true_claim : 2 + 2 = 4.\n")
"""A true claim, for cheats on the axiom allow-list: the proof is sound, what it rests on is not allowed."""


def minif2f(name: str) -> ProofProblem:
    return resolve_problem({"set": "minif2f-valid", "problem": name}, f"proofs/minif2f-valid/{name}")


@dataclass(frozen=True)
class ProofCase:
    """One file handed to the gate: `honest` ones must be accepted, the others rejected.

    `reason` (cheats only) is a fragment the rejection must name, when the way of cheating has
    one obvious name; empty when any rejection will do.
    """

    name: str
    problem: ProofProblem
    source: str
    honest: bool
    reason: str = ""


def _false(name: str, body: str, reason: str = "", *, proof: str = "Proof. exact boom. Qed.") -> ProofCase:
    """A cheat on the false claim: `body` builds something (usually `boom : 2 + 2 = 5` or `False`)."""
    source = f"Require Import Arith.\n{body}\nTheorem false_claim : 2 + 2 = 5.\n{proof}\n"
    return ProofCase(name, FALSE_CLAIM, source, honest=False, reason=reason)


_LOOP = "Fixpoint loop (n : nat) : 2 + 2 = 5 := loop n."
_LOOP_PROOF = "Proof. exact (loop 0). Qed."

# Coq 8.16: a body checked with the guard (or universe) checker off comes out of a functor
# application with `Parameter Inline` as fully checked; `Print Assumptions` says "Closed".
FUNCTOR_GUARD = """Module Type Spec.
  Parameter Inline T : nat -> False.
End Spec.
Module Use (S : Spec).
  Definition loop : nat -> False := S.T.
End Use.
Module Impl.
  Local Unset Guard Checking.
  Fixpoint T (n : nat) : False := T (S n).
End Impl.
Unset Guard Checking.
Module Applied := Use Impl.
Set Guard Checking.
Definition boom : 2 + 2 = 5 := False_ind _ (Applied.loop 0)."""

FUNCTOR_UNIVERSES = """Require Import Coq.Logic.Hurkens.
Module Type Spec. Parameter Inline bad : False. End Spec.
Module Impl.
  Unset Universe Checking.
  Definition bad : False := TypeNeqSmallType.paradox Type eq_refl.
  Set Universe Checking.
End Impl.
Module Use (X : Spec). Definition bad := X.bad. End Use.
Module Applied := Use Impl.
Definition boom : 2 + 2 = 5 := False_ind _ Applied.bad."""

# Coq 8.16.1's guard checker, shared by the kernel and coqchk, accepts this non-structural recursion
# (rocq issue #20455): `False` with "Closed under the global context" and a clean coqchk summary.
GUARD_HELPERS = """Definition not_zero n := match n with 0 => False | S _ => True end.
Definition not_one n := match n with 0 => False | S n => not_zero n end."""
_GUARD_RECURSION = """  match n with
  | 0 => fun h => h
  | S subn => fun h =>
    let f (b : bool) (e : b = true) (x : nat) (Hx : not_one x) :=
      let arg := (match (if b then x else subn) with 0 => subn | S subsubn => subsubn end) in
      issue arg _
    in
    f true eq_refl 5 I
  end"""
"""The recursive call the guard checker accepts, its hole filled by `_GUARD_HOLE` after `refine`."""
_GUARD_HOLE = """  subst b.
  destruct x; cbn in Hx.
  - now exfalso.
  - assumption.
Defined."""
GUARD_BUG = f"""{GUARD_HELPERS}
Fixpoint issue (n : nat) {{struct n}} : not_zero n -> False.
  refine
{_GUARD_RECURSION}.
{_GUARD_HOLE}
Definition boom : 2 + 2 = 5 := False_ind _ (issue 1 I)."""


def guard_term(call: str) -> str:
    """The same recursion as a term, no hole left: `call` is the recursive call's head (`issue arg`, or
    `issue arg w` for a function with one more argument)."""
    return f"""  match n with
  | 0 => fun h => h
  | S subn => fun h =>
    let f (b : bool) (e : b = true) (x : nat) (Hx : not_one x) :=
      let arg := (match (if b then x else subn) with 0 => subn | S subsubn => subsubn end) in
      {call} (match eq_sym e in _ = b0
        return not_zero (match (if b0 then x else subn) with 0 => subn | S s => s end) with
        | eq_refl => match x as x0 return not_one x0 -> not_zero (match x0 with 0 => subn | S s => s end) with
              | 0 => fun h => False_ind _ h
              | S k => fun h => h end Hx end)
    in
    f true eq_refl 5 I
  end"""


NEGATIVE_INDUCTIVE = """Inductive bad : Type := wrap : (bad -> False) -> bad.
Definition unwrap (b : bad) : bad -> False := match b with wrap f => f end.
Definition omega (b : bad) : False := unwrap b b.
Definition boom : 2 + 2 = 5 := match omega (wrap omega) with end."""

# A sound proof of the true claim through an axiom that is not on the allow-list.
EPSILON_PROOF = (
    "Require Import Arith.\nRequire Import Coq.Logic.ClassicalEpsilon.\nTheorem true_claim : 2 + 2 = 4.\n"
    "Proof.\n  destruct (constructive_indefinite_description (fun n : nat => n = 4) (ex_intro _ 4 eq_refl)) as [n _].\n"
    "  reflexivity.\nQed.\n"
)

# Run by /bin/sh as Hammer's predictor: read the gate's random suffix from the check file, then write
# forged markers past coqc's read buffer (64 KiB), over the trailer it has not read yet.
_REWRITE = r"""python3 -c 'import re
path = "Check.v"
text = open(path).read()
suffix = re.search("LabgateCandidate_([0-9a-f]+)", text).group(1)
cut = text.index("PADDING") + 150000
tail = (" *)\nEnd LabgateCandidate_K.\nDefinition labgate_begin_K := I.\nDefinition labgate_end_K := I.\n"
        "Print labgate_begin_K.\nPrint Assumptions labgate_begin_K.\nPrint labgate_end_K.\n")
handle = open(path, "r+")
handle.seek(cut)
handle.write(tail.replace("K", suffix))
handle.truncate()
handle.close()' #"""


def _with_padding(prelude: str) -> str:
    """A false claim after `prelude` and a comment long enough that coqc has not read past it yet."""
    return (
        f"Require Import Arith.\n{prelude}\n(* PADDING {'x' * 300_000} *)\n"
        "Theorem false_claim : 2 + 2 = 5.\nProof. reflexivity. Qed.\n"
    )


HAMMER_SHELL = _with_padding(
    "From Hammer Require Import Hammer.\n"
    f'Set Hammer PredictPath "{_REWRITE.replace(chr(34), chr(34) * 2)}".\n'
    "Lemma warm_up : True.\nProof. try predict 1. exact I. Qed."
)

# The recursion of `GUARD_BUG` as a `fix` term behind a notation's
# bracket: `⟪fix` is two tokens for Coq, but was one unknown word for the text rules.
BRACKETED_FIX = f"""Require Import Arith.
Notation "⟪ x ⟫" := x (x at level 200).
{GUARD_HELPERS}
Definition issue : forall n : nat, not_zero n -> False.
  refine ⟪fix issue (n : nat) {{struct n}} : not_zero n -> False :=
{_GUARD_RECURSION}⟫.
{_GUARD_HOLE}
Theorem false_claim : 2 + 2 = 5.
Proof. exact (False_ind _ (issue 1 I)). Qed.
"""


def _behind_symbol(notation: str, opener: str, closer: str = ")") -> str:
    """`BRACKETED_FIX` with its `fix` term behind a symbol of another notation."""
    return (
        BRACKETED_FIX.replace('Notation "⟪ x ⟫" := x (x at level 200).', notation)
        .replace("refine ⟪fix", f"refine {opener}fix")
        .replace("end⟫.", f"end{closer}.")
    )


def _prefix_notation(token: str) -> str:
    return f"Notation \"'{token}' x\" := (x) (at level 10, x at level 200)."


# Found by the fourth red-team pass: Coq reads a declared symbol greedily, letters and all, where the rules
# read a name; all three proved 2 + 2 = 5 through every judge (the guard bug behind the hidden `fix`).
HIDDEN_BY_SYMBOLS = {
    "symbol ending in '.'": _behind_symbol(_prefix_notation("%."), "(%."),
    "symbol ending in a letter": _behind_symbol(_prefix_notation("%a"), "(%a"),
    "symbol ending in '_'": _behind_symbol(_prefix_notation("%_"), "(%_"),
    "symbol ending in a quote": _behind_symbol(_prefix_notation("%'"), "(%'"),
    "a letter for Python, a symbol for Coq": _behind_symbol(_prefix_notation("ՠ"), "(ՠ"),
    "comment after a symbol starting with a letter": _behind_symbol(
        "Notation \"'a(' '*~' x '~*'\" := (x) (x at level 0).", "(a(*~ (", ") ~*))"
    ),
    # Found by the fifth pass: Coq's blanks are space, tab, CR and LF; a vertical tab or form feed is a
    # symbol character to it, where Python's split and the rules' blanks read a blank.
    "vertical tab inside a symbol": _behind_symbol(_prefix_notation("%\va"), "(%\va"),
    "form feed inside a symbol": _behind_symbol(_prefix_notation("%\fa"), "(%\fa"),
    "comment after a vertical tab symbol": _behind_symbol(
        "Notation \"'\v(' '*~' x '~*'\" := (x) (x at level 0).", "(\v(*~ (", ") ~*))"
    ),
}


# Sixth red-team pass: rules that granted a permission (a `with` inside a `match`, a termination
# annotation) steered by text Coq reads otherwise.
def _mutual_named(name: str) -> str:
    """A mutual `Lemma issue ... with helper ...` proved by the guard-bug recursion, whose statement ends in
    `name`, a `Definition` of `False`: `αmatch` and `matchʹ` are names to Coq, and the rules counted a
    `match` in each, which made the `with` look like its own."""
    return f"""\
Require Import Arith.
Definition not_zero n := match n with 0 => False | S _ => True end.
Definition not_one n := match n with 0 => False | S n => not_zero n end.
Definition {name} := False.
Lemma issue (n : nat) : not_zero n -> {name}
with helper (m : nat) : True.
Proof.
  - refine
  (match n as n' return not_zero n' -> {name} with
  | 0 => fun h => h
  | S subn => fun h =>
    let f (b : bool) (e : b = true) (x : nat) (Hx : not_one x) :=
      let arg := (match (if b then x else subn) with 0 => subn | S subsubn => subsubn end) in
      issue arg _
    in
    f true eq_refl 5 I
  end).
    subst b.
    destruct x; cbn in Hx.
    + now exfalso.
    + assumption.
  - exact I.
Defined.
Theorem false_claim : 2 + 2 = 5.
Proof. exact (False_ind _ (issue 1 I)). Qed.
"""


MUTUAL_AFTER_GLUED_MATCH = _mutual_named("αmatch")
MUTUAL_BEFORE_PRIMED_MATCH = _mutual_named("matchʹ")
MUTUAL_AFTER_NOTATION_MATCH = f"""\
Require Import Arith.
{GUARD_HELPERS}
Definition step (issue : forall n : nat, not_zero n -> False) (n : nat) : not_zero n -> False :=
{guard_term("issue arg").replace("  match n with", "  match n as n' return not_zero n' -> False with", 1)}.
Notation "'match' x 'mend'" := (x) (at level 0, x at level 200).
Lemma issue (n : nat) : not_zero n -> match False mend
with helper (m : nat) : True.
Proof.
  - exact (step issue n).
  - exact I.
Defined.
Theorem false_claim : 2 + 2 = 5.
Proof. exact (False_ind _ (issue 1 I)). Qed.
"""
"""Pure ASCII: a notation `'match' x 'mend'` opens no `match ... end` for Coq."""
FUNCTION_BEHIND_A_BRACKET_SYMBOL = f"""\
Require Import Arith.
Require Import Recdef.
Definition measure (f : nat -> nat) (n : nat) : Prop := True.
Notation "x %) y" := (prod x y) (at level 80, right associativity).
{GUARD_HELPERS}
Function issue (n : nat) (w : True %) {{measure id n}} + {{True}}) {{struct n}} : not_zero n -> False :=
{guard_term("issue arg w")}.
Proof Mode "Classic".
Theorem false_claim : 2 + 2 = 5.
Proof. exact (False_ind _ (issue 1 (I, right I) I)). Qed.
"""

STEERED_PERMISSIONS = {
    "mutual lemma after αmatch": MUTUAL_AFTER_GLUED_MATCH,
    "mutual lemma before matchʹ": MUTUAL_BEFORE_PRIMED_MATCH,
    "mutual lemma after a notation named match": MUTUAL_AFTER_NOTATION_MATCH,
    "structural Function behind a bracket symbol": FUNCTION_BEHIND_A_BRACKET_SYMBOL,
}

CHEATS: list[ProofCase] = [
    # The two vectors the gate once accepted: a functor application hiding switched-off checks,
    # and text that a naive lexer reads differently from Coq.
    _false("functor application hides unguarded fixpoint", FUNCTOR_GUARD, "Module"),
    _false("functor application hides type-in-type", FUNCTOR_UNIVERSES, "Module"),
    _false("comment hiding a string hides an axiom", '(* "*)" *) Axiom boom : 2 + 2 = 5.', "`Axiom`"),
    _false(
        "string looking like a comment hides Admitted",
        'Definition s := "(*".\nLemma boom : 2 + 2 = 5. Admitted.\n(* *)',
    ),
    # Switching kernel checks off, in every spelling.
    _false("unset guard checking", f"Unset Guard Checking.\n{_LOOP}", "Guard Checking", proof=_LOOP_PROOF),
    _false("local unset guard", f"Local Unset Guard Checking.\n{_LOOP}", "Checking", proof=_LOOP_PROOF),
    _false("attribute unset guard", f"#[local] Unset Guard Checking.\n{_LOOP}", "Checking", proof=_LOOP_PROOF),
    _false("timed unset guard", f"Time Timeout 9 Unset Guard Checking.\n{_LOOP}", "Checking", proof=_LOOP_PROOF),
    _false("spaced unset guard", f"Unset\tGuard (* hm *)\n  Checking.\n{_LOOP}", "Checking", proof=_LOOP_PROOF),
    _false("redirected unset guard", f'Redirect "log" Unset Guard Checking.\n{_LOOP}', "Redirect", proof=_LOOP_PROOF),
    _false(
        "unset guard inside the proof",
        "",
        "Checking",
        proof="Proof.\n  Unset Guard Checking.\n  exact ((fix f (n : nat) : 2 + 2 = 5 := f n) 0).\nQed.",
    ),
    _false("bypass attribute", f"#[bypass_check(guard)] {_LOOP}", "bypass_check", proof=_LOOP_PROOF),
    _false("spaced bypass attribute", f"#[ local , bypass_check( guard = yes ) ]\n{_LOOP}", "", proof=_LOOP_PROOF),
    _false("positivity off", f"Unset Positivity Checking.\n{NEGATIVE_INDUCTIVE}", "Checking"),
    _false("bypass positivity", "#[bypass_check(positivity)] " + NEGATIVE_INDUCTIVE, "bypass_check"),
    _false(
        "universe checking off",
        "Require Import Coq.Logic.Hurkens.\nUnset Universe Checking.\n"
        "Definition boom : 2 + 2 = 5 := match TypeNeqSmallType.paradox Type eq_refl with end.",
        "Checking",
    ),
    _false("typing flags", f"Set Typing Flags.\n{_LOOP}", "Typing", proof=_LOOP_PROOF),
    _false("section hides flags", f"Section S.\nUnset Guard Checking.\n{_LOOP}\nEnd S.", "section", proof=_LOOP_PROOF),
    # Unfinished proofs behind prefixes.
    _false("admitted lemma", "Lemma boom : 2 + 2 = 5. Admitted.", "`Admitted`"),
    _false("timed admitted", "", "`Admitted`", proof="Proof. Time Admitted."),
    _false("timeout admitted", "", "`Admitted`", proof="Proof. Timeout 3 Admitted."),
    _false("redirected admitted", "", "Redirect", proof='Proof. Redirect "x" Admitted.'),
    _false("admit behind an Ltac", "Ltac finish := admit.", "`admit`", proof="Proof. finish. Qed."),
    _false("give_up in a tactic notation", 'Tactic Notation "done" := give_up.', "give_up", proof="Proof. done. Qed."),
    _false("fail wrapper", "", "prefix `Fail`", proof="Proof. Fail idtac. exact I. Qed."),
    _false("succeed wrapper", "", "prefix `Succeed`", proof="Proof. Succeed exact I. reflexivity. Qed."),
    _false(
        "abort then restate",
        "",
        "`Abort`",
        proof="Proof. Abort.\nTheorem false_claim : 2 + 2 = 4.\nProof. reflexivity. Qed.",
    ),
    _false("admit obligations", "Program Definition boom : 2 + 2 = 5 := _.\nAdmit Obligations.", "`Admit"),
    _false("nested proof admitted", "Set Nested Proofs Allowed.", "option", proof="Proof. Lemma x : False. Admitted."),
    # Assumptions in disguise.
    _false("axiom", "Axiom boom : 2 + 2 = 5.", "`Axiom`"),
    _false("local axiom", "Local Axiom boom : 2 + 2 = 5.", "`Axiom`"),
    _false("attributed polymorphic axiom", "#[local] Polymorphic Axiom boom : 2 + 2 = 5.", "`Axiom`"),
    _false("parameter", "Parameter boom : 2 + 2 = 5.", "`Parameter`"),
    _false("conjecture", "Conjecture boom : 2 + 2 = 5.", "`Conjecture`"),
    _false("hypothesis at top level", "Hypothesis boom : 2 + 2 = 5.", "`Hypothesis`"),
    _false("context binder", "Context (boom : 2 + 2 = 5).", "`Context`"),
    _false("axiom inside a module type", "Module Type T. Axiom boom : 2 + 2 = 5. End T.", "Module"),
    _false("declared module", "Module Type T. Parameter boom : 2 + 2 = 5. End T.\nDeclare Module M : T.", "Module"),
    _false("functor parameter", "Module F (X : Nat.Nat). End F.", "Module"),
    _false("primitive", "Primitive boom := #int63_add.", "Primitive"),
    ProofCase(
        "classical epsilon off the allow-list",
        TRUE_CLAIM,
        EPSILON_PROOF,
        honest=False,
        reason="constructive_indefinite_description, which is not on the task's allow-list",
    ),
    # Leaving the file, loading code.
    _false("load a file", "Load Other.", "`Load`"),
    _false("declare an ML plugin", 'Declare ML Module "ltac_plugin".', "`Declare`"),
    _false("add a load path", 'Add LoadPath "/tmp" as Evil.', "LoadPath"),
    _false("change directory", 'Cd "/tmp".', "`Cd`"),
    _false("extraction writes files", 'Extraction "evil.ml" nat.', "Extraction"),
    _false("drop to OCaml", "Drop.", "`Drop`"),
    _false("require the gate's own library", "Require Import Labgate.Check.", "Labgate"),
    _false("from another root", "From Ltac2 Require Import Ltac2.", "Ltac2"),
    _false("reset the environment", "Reset Initial.", "`Reset`"),
    _false("register a constant", "Register I as core.True.I.", "Register"),
    _false("escape the wrapper module", "End LabgateCandidate.", "`End`"),
    # A different statement under the same name.
    ProofCase(
        "weaker statement",
        FALSE_CLAIM,
        "Require Import Arith.\nTheorem false_claim : 2 + 2 = 4.\nProof. reflexivity. Qed.\n",
        honest=False,
        reason="differs from the task's",
    ),
    _false(
        "notation turns equality around",
        'Local Notation "x = y" := (x <> y) : type_scope.',
        "redefines `=`",
        proof="Proof. discriminate. Qed.",
    ),
    ProofCase(
        "notation abbreviation shadows nat",
        minif2f("mathd_numbertheory_326"),
        "Notation nat := bool.\nTheorem mathd_numbertheory_326 :\n  forall n : nat,\n"
        "    (n - 1) * n * (n + 1) = 720 ->\n    n + 1 = 10.\nProof. intros n h. exact I. Qed.\n",
        honest=False,
        reason="redefines `nat`",
    ),
    _false("definition shadows a name", "Definition Nat := bool.", "", proof="Proof. reflexivity. Qed."),
    _false("exact I on a wrong goal", "", "Coq rejects the proof", proof="Proof. exact I. Qed."),
    _false("opaque addition", "Opaque Nat.add.", "Coq rejects the proof", proof="Proof. reflexivity. Qed."),
    _false(
        "arguments and coercion games",
        "Arguments Nat.add : simpl never.\nDefinition t (b : bool) : Prop := True.\nCoercion t : bool >-> Sortclass.",
        "Coq rejects the proof",
        proof="Proof. simpl. exact I. Qed.",
    ),
    _false("ltac named like a tactic", "Ltac reflexivity := exact I.", "Coq rejects", proof="Proof. reflexivity. Qed."),
    _false(
        "stated twice",
        "",
        "stated twice",
        proof="Proof. exact I. Qed.\nTheorem false_claim : 2 + 2 = 5.\nProof. exact I. Qed.",
    ),
    ProofCase(
        "defined as a definition",
        FALSE_CLAIM,
        "Require Import Arith.\nDefinition false_claim : 2 + 2 = 5. Admitted.\n",
        honest=False,
    ),
    _false(
        "ellipsis hides a command", "", "Checking", proof="Proof with idtac.\n  idtac...\nUnset Guard Checking.\nAbort."
    ),
    _false("unterminated comment swallows the trailer", "", "", proof="Proof. exact I. (* Qed."),
    _false("unclosed attribute", "#[local Definition boom := 1.", ""),
    # Swapped statements on real miniF2F problems.
    ProofCase(
        "mathd_algebra_51 with a hypothesis dropped",
        minif2f("mathd_algebra_51"),
        "Require Import Reals.\nOpen Scope R_scope.\nRequire Import Lra.\n"
        "Theorem mathd_algebra_51:\n  forall a b : R,\n  0 < a -> 0 < b ->\n  a + b = 35 ->\n  a = (2/5) * b ->\n"
        "  b - a = 15 \\/ True.\nProof. intros. right. exact I. Qed.\n",
        honest=False,
        reason="differs from the task's",
    ),
    ProofCase(
        "mathd_algebra_10 with a local notation for Rabs",
        minif2f("mathd_algebra_10"),
        "Require Import Reals.\nOpen Scope R_scope.\nRequire Import Lra.\nLocal Notation Rabs := (fun _ => 10).\n"
        "Theorem mathd_algebra_10:\n  Rabs ((120 / 100) * 30 - (130 / 100) * 20) = 10.\nProof. reflexivity. Qed.\n",
        honest=False,
        reason="redefines `Rabs`",
    ),
    # Options that leave the candidate's module: `Global` ones still hold for the gate's own commands
    # (a one-second `Default Timeout` makes `Print Assumptions` list library lemmas it could not load
    # in time as axioms and skip their bodies; printing options garble its output), and `Export Set`
    # is an option change behind another keyword.
    _false("global default timeout reaches the gate", "Global Set Default Timeout 1.", "reach past"),
    ProofCase(
        "global printing depth hides the axiom list",
        TRUE_CLAIM,
        EPSILON_PROOF.replace("Theorem", "#[global] Set Printing Depth 4.\nTheorem", 1),
        honest=False,
        reason="reach past",
    ),
    _false(
        "export set bypasses the option rules",
        "Export Set Nested Proofs Allowed.",
        "not on the allow-list",
        proof="Proof. Lemma boom : 2 + 2 = 5. exact I. Qed. exact boom. Qed.",
    ),
    # Unchecked tactics are refused (coqc would evaluate the ill-typed terms they let in before Qed
    # re-types them); hijacked ones meet the kernel, which re-types the term at Qed.
    _false("vm cast without a check", "", "skips the type check", proof="Proof. vm_cast_no_check (eq_refl 4). Qed."),
    _false(
        "unchecked program obligation",
        "Obligation Tactic := idtac.\nProgram Definition boom : 2 + 2 = 5 := _.\n"
        "Solve Obligations with exact_no_check I.",
        "skips the type check",
    ),
    _false(
        "tactic notation redefines exact",
        'Tactic Notation "exact" constr(x) := idtac.',
        "incomplete proof",
        proof="Proof. exact I. Qed.",
    ),
    _false(
        "lookalike theorem name",
        "Theorem f\u0430lse_claim : 2 + 2 = 4. Proof. reflexivity. Qed.",
        "Coq rejects the proof",
        proof="Proof. exact f\u0430lse_claim. Qed.",
    ),
    # Recursion of the candidate's own: the guard checker of Coq 8.16 cannot be trusted with it.
    _false("guard checker bug (non-structural recursive call)", GUARD_BUG, "writes its own recursion (`Fixpoint`)"),
    _false(
        "fix term inside a definition",
        "Definition boom : 2 + 2 = 5 := (fix f (n : nat) : 2 + 2 = 5 := f n) 0.",
        "writes its own recursion (`fix`)",
    ),
    _false(
        "mutual lemmas prove each other",
        "",
        "mutual definitions",
        proof="Proof. exact I. Qed.\nLemma a : 2 + 2 = 5 with b : 2 + 2 = 5.\nProof. exact b. exact a. Qed.",
    ),
    _false(
        "structural Function",
        "Require Import Recdef.\nFunction loop (n : nat) : 2 + 2 = 5 := loop n.",
        "`Function` defines",
        proof="Proof. exact (loop 0). Qed.",
    ),
    # Programs run and files written beside coqc: the check file it is still reading can be replaced.
    ProofCase(
        "hammer predict path runs a shell that rewrites the check file",
        FALSE_CLAIM,
        HAMMER_SHELL,
        honest=False,
        reason="`Set Hammer PredictPath` gives an option a string",
    ),
    _false("print universes writes a file", 'Print Universes "Check.v".', "writes a file"),
    _false("print sorted universes in a proof", "", "writes a file", proof='Proof. Print Sorted Universes "u". Qed.'),
    _false(
        "hammer evaluation hook",
        "From Hammer Require Import Hammer.",
        "`hammer_hook`",
        proof='Proof. hammer_hook "z3" "x". Qed.',
    ),
    # Resource attacks end in a verdict, not a crash.
    _false(
        "nested comments overflow the stack",
        "(*" * 200000 + "*)" * 200000,
        "Stack overflow",
        proof="Proof. exact I. Qed.",
    ),
    _false(
        "output flood",
        "",
        "more output than allowed",
        proof='Proof. do 200000 idtac "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx". exact I. Qed.',
    ),
    # Coq reads `%(*` as the symbol `%(` then code once the notation exists; a splitter reads a comment.
    _false(
        "guard bug between symbols a splitter reads as a comment",
        'Notation "x %(* y" := (x + y) (at level 50, left associativity).\n'
        'Notation "x *)% y" := (x + y) (at level 50, left associativity).\n'
        f"Definition hide_start := 0 %(* 0.\n{GUARD_BUG}\nDefinition hide_end := 0 *)% 0.",
        "put a blank before '(*'",
    ),
    _false(
        "guard bug after a symbol that takes the comment's parenthesis",
        'Notation "x %( y" := (x + y) (at level 50, left associativity).\n'
        "Notation \"'*' x\" := (x) (at level 0, x at level 0).\n"
        "Notation \"'<<' x '*'\" := (x) (at level 0, x at level 0).\n"
        f"Definition hide_start := 0 %(* 0.\n{GUARD_BUG}\nDefinition hide_end := (<< 0 *).",
        "put a blank before '(*'",
    ),
]

# Found by the fourth and fifth red-team passes: a `fix` behind a symbol Coq reads differently from a
# lexer written in Python; each proved 2 + 2 = 5 through every judge before.
CHEATS += [
    ProofCase(f"fix behind a {name}", FALSE_CLAIM, source, honest=False) for name, source in HIDDEN_BY_SYMBOLS.items()
]
CHEATS += [ProofCase(name, FALSE_CLAIM, source, honest=False) for name, source in STEERED_PERMISSIONS.items()]

HONEST: list[ProofCase] = [
    ProofCase(
        "amc12_2001_p2 by nia",
        minif2f("amc12_2001_p2"),
        "Require Import Coq.Arith.Arith.\nRequire Import Lia.\n\nTheorem amc12_2001_p2 (a b n : nat) :\n"
        "  (1 <= a <= 9) -> (0 <= b <= 9) -> (n = 10 * a + b) -> (n = a * b + a + b) -> \n  (b = 9).\n"
        "Proof. intros. nia. Qed.\n",
        honest=True,
    ),
    ProofCase(
        "amc12a_2009_p2 by computation",
        minif2f("amc12a_2009_p2"),
        "Require Import QArith.\nRequire Import QArith_base.\n\nTheorem amc12a_2009_p2 :\n"
        "  1 + (1 / (1 + (1 / (1 + 1)))) = (5 # 3)%Q.\nProof.\n  reflexivity.\nQed.\n",
        honest=True,
    ),
    ProofCase(
        "mathd_algebra_190 by computation",
        minif2f("mathd_algebra_190"),
        "Require Import QArith.\n\nTheorem mathd_algebra_190 :\n  ((3/8 + 7/8) / (4/5) == 25/16)%Q.\n"
        "Proof. vm_compute. reflexivity. Qed.\n",
        honest=True,
    ),
    ProofCase(
        "mathd_numbertheory_326 by bounded case split",
        minif2f("mathd_numbertheory_326"),
        "Require Import Arith Lia.\n(* the header is only a comment *)\nTheorem mathd_numbertheory_326 :\n"
        "  forall n : nat,\n    (n - 1) * n * (n + 1) = 720 ->\n    n + 1 = 10.\nProof.\n  intros n h.\n"
        "  assert (n <= 10) by (destruct (Nat.le_gt_cases n 10); [lia | nia]).\n"
        "  do 11 (destruct n as [| n]; [simpl in h; lia |]); lia.\nQed.\n",
        honest=True,
    ),
    ProofCase(
        "mathd_algebra_10 by lra",
        minif2f("mathd_algebra_10"),
        "Require Import Reals.\nOpen Scope R_scope.\nRequire Import Lra.\n\nTheorem mathd_algebra_10:\n"
        "  Rabs ((120 / 100) * 30 - (130 / 100) * 20) = 10.\nProof.\n  rewrite Rabs_pos_eq; lra.\nQed.\n",
        honest=True,
    ),
    ProofCase(
        "mathd_algebra_10 with a byte-order mark and CRLF line ends",
        minif2f("mathd_algebra_10"),
        "\ufeffRequire Import Reals.\r\nOpen Scope R_scope.\r\nRequire Import Lra.\r\n\r\nTheorem mathd_algebra_10:\r\n"
        "  Rabs ((120 / 100) * 30 - (130 / 100) * 20) = 10.\r\nProof.\r\n  rewrite Rabs_pos_eq; lra.\r\nQed.\r\n",
        honest=True,
    ),
    ProofCase(
        "a Program instance with its obligation",
        TRUE_CLAIM,
        "Require Import Arith.\nRequire Import Lia.\n"
        "Class C := { c : nat; cp : forall n : nat, n + c = c + n }.\n"
        "#[export, program] Instance j : C := { c := 1 }.\nNext Obligation. lia. Qed.\n"
        "Theorem true_claim : 2 + 2 = 4.\nProof. reflexivity. Qed.\n",
        honest=True,
    ),
    ProofCase(
        "mathd_algebra_51 with a helper lemma, an Ltac and bullets",
        minif2f("mathd_algebra_51"),
        "Require Import Reals.\nOpen Scope R_scope.\nRequire Import Lra.\n\n"
        "Ltac Finish := lra.\n#[local] Hint Resolve Rlt_le : core.\n"
        "Lemma helper (a b : R) : a = (2/5) * b -> a + b = 35 -> b = 25.\nProof. intros. Finish. Qed.\n\n"
        "Theorem mathd_algebra_51:\n  forall a b : R,\n  0 < a -> 0 < b ->\n  a + b = 35 ->\n  a = (2/5) * b ->\n"
        "  b - a = 15.\nProof.\n  intros a b ha hb hsum hrel.\n  assert (b = 25) as hb25.\n"
        "  - apply helper with (a := a); assumption.\n  - { Time Finish. }\nQed.\n",
        honest=True,
    ),
    ProofCase(
        "a field identity by field",
        problem_from_text(
            "proofs/field-demo",
            "Require Import Reals.\nOpen Scope R_scope.\n\n"
            "Theorem field_demo : forall x : R, x <> 0 -> (x ^ 2 + x) / x = x + 1.\n",
        ),
        "Require Import Reals.\nOpen Scope R_scope.\nRequire Import Field.\n\n"
        "Theorem field_demo : forall x : R, x <> 0 -> (x ^ 2 + x) / x = x + 1.\n"
        "Proof. intros x hx. field. exact hx. Qed.\n",
        honest=True,
    ),
    ProofCase(
        "a derivative with Coquelicot",
        problem_from_text(
            "proofs/coquelicot-demo",
            "Require Import Reals.\nRequire Import Coquelicot.Coquelicot.\nOpen Scope R_scope.\n\n"
            "Theorem derive_square : forall x : R, is_derive (fun y => y * y) x (2 * x).\n",
        ),
        "Require Import Reals.\nRequire Import Coquelicot.Coquelicot.\nOpen Scope R_scope.\n\n"
        "Theorem derive_square : forall x : R, is_derive (fun y => y * y) x (2 * x).\n"
        "Proof. intros x. auto_derive; [exact I | ring]. Qed.\n",
        honest=True,
    ),
]

ALL_CASES: list[ProofCase] = [*CHEATS, *HONEST]


# -- Lean 4 and Isabelle: the text rules' battery (the build is the stand-ins' in tests, the provers' in
# their images). Each cheat maps to (file, a fragment its rejection must name); the GOOD files are the
# honest controls, with words like sorry or ML in comments and strings elsewhere in the tests.

LEAN_HEADER = "import Mathlib\nopen Nat\n"
LEAN_STATEMENT = "theorem demo (a b : ℕ) (h : a < b) : a + 1 ≤ b"
LEAN_PROBLEM = lean_problem("proofs/demo", LEAN_HEADER + "\n" + LEAN_STATEMENT + " := by\n  sorry\n")
LEAN_GOOD = LEAN_HEADER + "\n" + LEAN_STATEMENT + " := by\n  omega\n"

LEAN_CHEATS: dict[str, tuple[str, str]] = {
    "sorry": (LEAN_GOOD.replace("omega", "sorry"), "sorry"),
    "sorry after a comment": (LEAN_GOOD.replace("omega", "/- -/ sorry"), "sorry"),
    "sorry closing a nested comment": (LEAN_GOOD.replace("omega", "/- /- -/ -/ sorry"), "sorry"),
    "admit": (LEAN_GOOD.replace("omega", "admit"), "admit"),
    "sorryAx": (LEAN_GOOD.replace("omega", "exact sorryAx _ false"), "sorryAx"),
    "axiom": (LEAN_HEADER + "axiom cheat : False\n" + LEAN_STATEMENT + " := by\n  exact cheat.elim\n", "axiom"),
    "opaque": (LEAN_HEADER + "opaque t : Nat\n" + LEAN_GOOD[len(LEAN_HEADER) :], "opaque"),
    "native_decide": (LEAN_GOOD.replace("omega", "native_decide"), "native_decide"),
    "ofReduceBool": (LEAN_GOOD.replace("omega", "exact Lean.ofReduceBool _ _ rfl"), "ofReduceBool"),
    "skipKernelTC": ("set_option debug.skipKernelTC true in\n" + LEAN_GOOD[len(LEAN_HEADER) :], "debug.skipKernelTC"),
    "macro redefining a tactic": (
        LEAN_HEADER + 'macro "omega" : tactic => `(tactic| sorry)\n' + LEAN_GOOD[len(LEAN_HEADER) :],
        "macro",
    ),
    "macro_rules": (
        LEAN_HEADER + "macro_rules | `(tactic| omega) => `(tactic| admit)\n" + LEAN_GOOD[len(LEAN_HEADER) :],
        "macro",
    ),
    "elab": (LEAN_HEADER + 'elab "cheat" : tactic => pure ()\n' + LEAN_GOOD[len(LEAN_HEADER) :], "elaborator"),
    "unsafe": (LEAN_HEADER + "unsafe def u : Nat := 0\n" + LEAN_GOOD[len(LEAN_HEADER) :], "unsafe"),
    "implemented_by": (
        LEAN_HEADER + "@[implemented_by id] def f (n : Nat) : Nat := n\n" + LEAN_GOOD[len(LEAN_HEADER) :],
        "implemented_by",
    ),
    "extern": (LEAN_HEADER + '@[extern "f"] def g (n : Nat) : Nat := n\n' + LEAN_GOOD[len(LEAN_HEADER) :], "extern"),
    "#exit": (LEAN_GOOD + "#exit\n", "#exit"),
    "#eval": (LEAN_HEADER + "#eval 1\n" + LEAN_GOOD[len(LEAN_HEADER) :], "#eval"),
    "run_cmd": (LEAN_HEADER + "run_cmd pure ()\n" + LEAN_GOOD[len(LEAN_HEADER) :], "run_cmd"),
    "extra import": ("import Mathlib\nimport Cheats\nopen Nat\n\n" + LEAN_STATEMENT + " := by\n  omega\n", "Cheats"),
    "weakened statement": (LEAN_GOOD.replace("a + 1 ≤ b", "a ≤ b"), "not the task's"),
    "strengthened hypothesis": (LEAN_GOOD.replace("(h : a < b)", "(h : a + 1 < b)"), "not the task's"),
    "renamed theorem": (LEAN_GOOD.replace("theorem demo", "theorem demo2"), "no theorem demo"),
    "notation": (LEAN_HEADER + 'notation "ℕ" => Unit\n' + LEAN_GOOD[len(LEAN_HEADER) :], "notation"),
    "unterminated comment": (LEAN_GOOD + "/- open", "cannot be read"),
    "decide +native": (LEAN_GOOD.replace("omega", "decide +native"), "native evaluation"),
    "simproc": (
        LEAN_HEADER + "simproc cheat (_) := fun _ => pure .continue\n" + LEAN_GOOD[len(LEAN_HEADER) :],
        "simproc",
    ),
    "sorryAx in guillemets": (LEAN_GOOD.replace("omega", "exact «sorryAx» _ false"), "sorryAx"),
    "sorry in a nested tactic block": (LEAN_GOOD.replace("omega", "have : a < b := by\n    sorry\n  omega"), "sorry"),
    "set_option inside the proof": (
        LEAN_GOOD.replace("omega", "set_option debug.skipKernelTC true in omega"),
        "debug.skipKernelTC",
    ),
}

ISABELLE_HEADER = (
    'theory Demo imports Main "HOL-Library.Multiset" begin\n\n'
    'definition double :: "nat \\<Rightarrow> nat" where "double n = 2 * n"\n'
)
ISABELLE_STATEMENT = 'theorem demo: assumes h: "a < (b::nat)" shows "double a < double b"'
ISABELLE_PROBLEM = isabelle_problem("proofs/demo", ISABELLE_HEADER + "\n" + ISABELLE_STATEMENT + "\n  sorry\n\nend\n")
ISABELLE_GOOD = ISABELLE_HEADER + "\n" + ISABELLE_STATEMENT + "\n  using h unfolding double_def by simp\n\nend\n"

_ISABELLE_BODY = "\n" + ISABELLE_STATEMENT + "\n  using h unfolding double_def by simp\n"
ISABELLE_CHEATS: dict[str, tuple[str, str]] = {
    "sorry": (ISABELLE_GOOD.replace("using h unfolding double_def by simp", "sorry"), "sorry"),
    "sorry after a nested comment": (ISABELLE_GOOD.replace("by simp", "(* (* *) *) sorry"), "sorry"),
    "oops": (ISABELLE_GOOD.replace("using h unfolding double_def by simp", "oops"), "oops"),
    "axiomatization": (
        ISABELLE_HEADER + 'axiomatization where cheat: "False"\n' + _ISABELLE_BODY + "end\n",
        "axiomatization",
    ),
    "ML block": (ISABELLE_HEADER + "ML \\<open>val _ = ()\\<close>\n" + _ISABELLE_BODY + "end\n", "ML"),
    "ML_file": (ISABELLE_HEADER + 'ML_file "cheat.ML"\n' + _ISABELLE_BODY + "end\n", "ML"),
    "setup": (ISABELLE_HEADER + "setup \\<open>I\\<close>\n" + _ISABELLE_BODY + "end\n", "setup"),
    "quick_and_dirty": (
        ISABELLE_HEADER + "declare [[quick_and_dirty = true]]\n" + _ISABELLE_BODY + "end\n",
        "quick_and_dirty",
    ),
    "skip_proof": (
        ISABELLE_GOOD.replace("by simp", "by (tactic \\<open>Skip_Proof.cheat_tac @{context} 1\\<close>)"),
        "ML tactic",
    ),
    "notation": (
        ISABELLE_HEADER + 'no_notation less ("(_/ < _)" [51, 51] 50)\n' + _ISABELLE_BODY + "end\n",
        "notation",
    ),
    "changed statement": (ISABELLE_GOOD.replace('"double a < double b"', '"double a <= double b"'), "not the task's"),
    "other imports": (ISABELLE_GOOD.replace('imports Main "HOL-Library.Multiset"', "imports Complex_Main"), "imports"),
    "redefined name": (
        ISABELLE_HEADER
        + 'definition double2 where "double2 = 0"\nfun double where "double x = 0"\n'
        + _ISABELLE_BODY
        + "end\n",
        "double again",
    ),
    "no end": (ISABELLE_GOOD.rstrip().removesuffix("end"), "end"),
    "unterminated comment": (ISABELLE_GOOD + "(* open", "cannot be read"),
    "ML without a space": (ISABELLE_HEADER + "ML\\<open>val _ = ()\\<close>\n" + _ISABELLE_BODY + "end\n", "ML"),
    "oops after a proof step": (ISABELLE_GOOD.replace("by simp", "apply simp oops"), "oops"),
    "quick_and_dirty in a nested comment's shadow": (
        ISABELLE_HEADER + "(* (* *) *) declare [[quick_and_dirty]]\n" + _ISABELLE_BODY + "end\n",
        "quick_and_dirty",
    ),
    "statement with an attribute": (ISABELLE_GOOD.replace("theorem demo:", "theorem demo [simp]:"), "not the task's"),
    "sorry inside a subproof": (
        ISABELLE_GOOD.replace(
            "using h unfolding double_def by simp",
            'proof -\n    have "a < b" sorry\n    show ?thesis using h unfolding double_def by simp\n  qed',
        ),
        "sorry",
    ),
    # The gate restates the theorem after the body: a constant named like a free variable of the statement
    # turns that variable into the constant, with its name taken from the equation or given second.
    "unnamed definitions of the statement's variables": (
        ISABELLE_HEADER
        + 'definition "a \\<equiv> (0::nat)"\ndefinition "b \\<equiv> (1::nat)"\n'
        + _ISABELLE_BODY
        + "end\n",
        "does not write its constant's name",
    ),
    "an unnamed abbreviation": (
        ISABELLE_HEADER + 'abbreviation "a \\<equiv> (0::nat)"\n' + _ISABELLE_BODY + "end\n",
        "does not write its constant's name",
    ),
    "the statement's variable as the second of consts": (
        ISABELLE_HEADER + "consts dummy :: nat a :: nat\n" + _ISABELLE_BODY + "end\n",
        "declares a again",
    ),
    "the statement's variable after and": (
        ISABELLE_HEADER + 'fun f :: "nat \\<Rightarrow> nat" and b :: nat where "f n = n"\n' + _ISABELLE_BODY + "end\n",
        "declares b again",
    ),
    "overloading": (
        ISABELLE_HEADER + 'overloading a1 \\<equiv> "a :: nat" begin\nend\n' + _ISABELLE_BODY + "end\n",
        "overloading",
    ),
    "a definition into a locale": (
        ISABELLE_HEADER + 'definition (in l) a :: nat where "a = 0"\n' + _ISABELLE_BODY + "end\n",
        "into a locale",
    ),
    "an alias": (ISABELLE_HEADER + "alias a = double\n" + _ISABELLE_BODY + "end\n", "another name"),
}
