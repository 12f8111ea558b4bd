"""Skeletons for goals of a particular shape, offered only when the statement has that shape.

Each is costly or pointless elsewhere (a case split needs a bounded variable, instantiating a
recurrence needs a `forall n : nat` hypothesis, real-number products need the reals loaded), so
each comes with a guard on the problem's text; the proposer skips a skeleton whose guard fails,
which keeps the shared budget of prover runs for the skeletons that can apply.

- `bounded-cases`: every natural number that `nia` bounds by `CASE_BOUND` is enumerated
  (`destruct n as [|[|...]]`), the numbers substituted into every hypothesis, and each case
  closed by `lia`/`nia` when it can be (the rest get holes of their own at `Qed`).
- `bounded-wide`: the first natural number `nia` bounds by `WIDE_BOUND`, enumerated alone (with it
  fixed, the other unknowns of `x * y + x + y = 71` are determined linearly).
- `bounded-cases-z`: an integer `nia` bounds to a small range is written `Z.of_nat k` (shifted when
  it may be negative), and `k` enumerated as in `bounded-cases`.
- `residue-cases-z` / `residue-cases-nat`: `a ^ 2` written `a * a`, `(x * y) mod m` split into
  remainders, then the remainder `a mod m` of a variable, with its bound (`Z.mod_pos_bound`,
  `Nat.mod_upper_bound`), becomes a natural number that `bounded-cases` enumerates.
- `instantiate-nat`: every hypothesis `forall n : nat, ...` (a recurrence, a sequence's rule) is
  instantiated at `0 .. INSTANCES - 1`, its arithmetic premises discharged by `lia`, index
  arithmetic computed, so that `lra`/`lia` can chain the instances.
- `unfold-local`: the header's own `Definition`s unfolded everywhere (the names come from the
  header, so this skeleton is built per problem).
- `ring-simplify-hyps`: every equation normalised by `ring_simplify`, then substituted (an equation
  that collapses to `x = 5` is used as such).
- `pair-squares`: `0 <= (x * y) * (x * y)` and `0 <= (x + y) * (x + y)` for each pair of real
  variables (`square-hints` in `_proposer` gives differences and the variables themselves).
- `sign-products`: real order facts rewritten as `0 < b - a` / `0 <= b - a`, and products of
  pairs of them added as facts, so `nra`'s own pairwise products reach degree three or four.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agents.proof_search._script import HOLE
from tools.proofs import ProofProblem

CASE_BOUND = 12
"""Largest value a natural number may take for `bounded-cases` to enumerate it (13 cases each)."""
WIDE_BOUND = 100
"""`bounded-wide`: the largest value of the one natural number it enumerates."""
INSTANCES = 13
"""`instantiate-nat` instantiates `forall n : nat` hypotheses at 0 .. INSTANCES - 1."""
UNFOLD_LOCAL = "<unfold local definitions>"
"""Placeholder step replaced per problem by `unfold` of the header's definitions."""

DESTRUCT_HYPS = (
    "repeat match goal with "
    "| H : _ /\\ _ |- _ => destruct H "
    "| H : exists _, _ |- _ => destruct H "
    "| H : _ <-> _ |- _ => destruct H "
    "end."
)
"""Split conjunctions, existentials and equivalences in hypotheses (the general skeletons use it too)."""


def _case_pattern(bound: int) -> str:
    """`[|[|...[|n]...]]`: `bound + 1` numerals and the successor of the last, for `destruct`."""
    return "[|" * (bound + 1) + "n" + "]" * (bound + 1)


_BOUNDED_CASES = (
    "repeat match goal with n : nat |- _ => "
    f"assert (n <= {CASE_BOUND})%nat by (timeout 2 nia); "
    f"destruct n as {_case_pattern(CASE_BOUND)}; try (exfalso; lia) end."
)
# An integer that `nia` bounds to [0, CASE_BOUND] or [-CASE_BOUND/2, CASE_BOUND/2] becomes
# `Z.of_nat k` (shifted), a natural number that `bounded-cases` then enumerates.
_Z_TO_NAT = (
    "repeat match goal with z : Z |- _ => "
    'let k := fresh "k" in first ['
    f"assert (0 <= z <= {CASE_BOUND})%Z by (timeout 2 nia); "
    "assert (exists k : nat, z = Z.of_nat k) as [k ->] by (exists (Z.to_nat z); rewrite Z2Nat.id; lia) | "
    f"assert (-{CASE_BOUND // 2} <= z <= {CASE_BOUND // 2})%Z by (timeout 2 nia); "
    f"assert (exists k : nat, z = (Z.of_nat k - {CASE_BOUND // 2})%Z) as [k ->] "
    f"by (exists (Z.to_nat (z + {CASE_BOUND // 2})); rewrite Z2Nat.id; lia)] end."
)
_CLOSE_CASES = "all: try (timeout 2 lia); try (timeout 2 nia); try (simpl in *; timeout 2 lia)."
# One natural number bounded by `WIDE_BOUND` (the first `nia` bounds), enumerated alone: with it
# fixed, the other unknowns are often determined linearly.
_WIDE_CASES = (
    "match goal with n : nat |- _ => "
    f"assert (n <= {WIDE_BOUND})%nat by (timeout 2 nia); "
    f"destruct n as {_case_pattern(WIDE_BOUND)}; try (exfalso; lia) end."
)
_CLOSE_WIDE = "all: try (timeout 1 lia); try (timeout 1 nia)."
# A remainder `a mod m` of a variable (after `(x * y) mod m` is split into remainders) becomes a
# natural number below `m`, which `bounded-cases` then enumerates.
_RESIDUE_Z = (
    "match goal with |- context [Z.modulo ?a ?m] => is_var a; "
    "pose proof (Z.mod_pos_bound a m ltac:(lia)); "
    'let r := fresh "r" in let k := fresh "k" in remember (Z.modulo a m) as r; '
    "assert (exists k : nat, r = Z.of_nat k) as [k ->] by (exists (Z.to_nat r); rewrite Z2Nat.id; lia) end."
)
_RESIDUE_NAT = (
    "match goal with |- context [Nat.modulo ?a ?m] => is_var a; "
    "pose proof (Nat.mod_upper_bound a m ltac:(lia)); "
    'let r := fresh "r" in remember (Nat.modulo a m) as r end.'
)
_INSTANTIATE = (
    "repeat match goal with H : forall n : nat, _ |- _ => "
    + "; ".join(f"pose proof (H {k}%nat)" for k in range(INSTANCES))
    + "; clear H end."
)
_DISCHARGE_PREMISES = (
    "repeat match goal with H : ?P -> _ |- _ => specialize (H ltac:(repeat split; first [lia | reflexivity])) end."
)
_INDEX_ARITHMETIC = "cbn [Nat.sub Nat.add Nat.mul Nat.pred] in *."
_RING_SIMPLIFY_HYPS = (
    "repeat match goal with H : @eq R _ _ |- _ => (try ring_simplify in H); revert H end; intros; try subst."
)
_SIGN_PRODUCT = (
    "lazymatch a with _ * _ => fail | _ => lazymatch b with _ * _ => fail | _ => "
    "lazymatch goal with _ : {rel} 0%R (a * b) |- _ => fail | _ => "
    "assert ({rel} 0%R (a * b)) by ({proof}) end end end"
)
# Positive and nonnegative facts, then their pairwise products (factors that are products
# themselves are skipped, so the products stop at degree two).
_SIGN_PRODUCTS = (
    "repeat match goal with "
    "| H1 : Rlt 0%R ?a, H2 : Rlt 0%R ?b |- _ => "
    + _SIGN_PRODUCT.format(rel="Rlt", proof="apply Rmult_lt_0_compat; assumption")
    + " | H1 : Rle 0%R ?a, H2 : Rle 0%R ?b |- _ => "
    + _SIGN_PRODUCT.format(rel="Rle", proof="apply Rmult_le_pos; assumption")
    + " end."
)
# `a < b` becomes `0 < b - a` (likewise `<=`, `>`, `>=`), so that every sign fact has one shape.
_SIGN_FORMS = (
    "try unfold Rgt in *; try unfold Rge in *; "
    "repeat match goal with "
    "| H : Rlt ?a ?b |- _ => lazymatch a with 0%R => fail | _ => "
    "assert (Rlt 0%R (b - a)) by lra; clear H end "
    "| H : Rle ?a ?b |- _ => lazymatch a with 0%R => fail | _ => "
    "assert (Rle 0%R (b - a)) by lra; clear H end "
    "end."
)

# Squares of products and sums of two real variables (`square-hints` has differences and the variables).
_PAIR_SQUARE = (
    "lazymatch goal with _ : Rle 0%R ({t} * {t}) |- _ => fail | _ => "
    "assert (Rle 0%R ({t} * {t})) by apply Rle_0_sqr end"
)
_PAIR_SQUARES = (
    "repeat match goal with x : R, y : R |- _ => first ["
    + _PAIR_SQUARE.format(t="(x * y)")
    + "; try ("
    + _PAIR_SQUARE.format(t="(x + y)")
    + ") | "
    + _PAIR_SQUARE.format(t="(x + y)")
    + "] end."
)

TARGETED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bounded-cases", ("intros.", DESTRUCT_HYPS, "subst.", _BOUNDED_CASES, _CLOSE_CASES)),
    ("bounded-wide", ("intros.", DESTRUCT_HYPS, "subst.", _WIDE_CASES, _CLOSE_WIDE)),
    ("bounded-cases-z", ("intros.", DESTRUCT_HYPS, "subst.", _Z_TO_NAT, _BOUNDED_CASES, _CLOSE_CASES)),
    (
        "residue-cases-z",
        (
            "intros.",
            "repeat rewrite Z.pow_2_r.",
            "try rewrite Z.mul_mod by lia.",
            _RESIDUE_Z,
            _BOUNDED_CASES,
            _CLOSE_CASES,
        ),
    ),
    (
        "residue-cases-nat",
        (
            "intros.",
            "repeat rewrite Nat.pow_2_r.",
            "try rewrite Nat.mul_mod by lia.",
            _RESIDUE_NAT,
            _BOUNDED_CASES,
            _CLOSE_CASES,
        ),
    ),
    ("instantiate-nat", ("intros.", DESTRUCT_HYPS, _INSTANTIATE, _DISCHARGE_PREMISES, _INDEX_ARITHMETIC, HOLE)),
    ("unfold-local", ("intros.", UNFOLD_LOCAL, DESTRUCT_HYPS, "simpl in *.", HOLE)),
    ("ring-simplify-hyps", ("intros.", DESTRUCT_HYPS, _RING_SIMPLIFY_HYPS, HOLE)),
    ("pair-squares", ("intros.", DESTRUCT_HYPS, _PAIR_SQUARES, HOLE)),
    ("sign-products", ("intros.", DESTRUCT_HYPS, _SIGN_FORMS, _SIGN_PRODUCTS, HOLE)),
)

_REALS = re.compile(r"\bRequire\s+(?:Import\s+|Export\s+)?(?:[\w.]*\s+)*?(?:Reals|Rbase|Coquelicot)\b")
_DEFINITION = re.compile(r"^\s*Definition\s+([A-Za-z_][\w']*)", re.MULTILINE)
_NAT_BINDER = re.compile(r"\bnat\b")
_NAT_FORALL = re.compile(r"forall\s*\(?\s*\w+(?:\s+\w+)*\s*:\s*nat\b")
_MOD = re.compile(r"\bmod\b|modulo")
_Z = re.compile(r"\bZ\b|Z_scope|ZArith")


def local_definitions(problem: ProofProblem) -> tuple[str, ...]:
    """Names the header defines with `Definition` (a `Fixpoint` is left to `simpl`/`vm_compute`)."""
    return tuple(dict.fromkeys(_DEFINITION.findall(problem.header)))


def _uses_reals(problem: ProofProblem) -> bool:
    return _REALS.search(problem.header) is not None


def _has_nat(problem: ProofProblem) -> bool:
    """A natural number in the statement (whether `nia` bounds it is for the prover to say)."""
    return _NAT_BINDER.search(problem.statement) is not None


def _has_nat_forall(problem: ProofProblem) -> bool:
    return _NAT_FORALL.search(problem.statement) is not None


GUARDS: dict[str, Callable[[ProofProblem], bool]] = {
    "bounded-cases": _has_nat,
    "bounded-wide": _has_nat,
    "bounded-cases-z": lambda problem: _Z.search(problem.statement) is not None,
    "residue-cases-z": lambda problem: (
        _MOD.search(problem.statement) is not None and _Z.search(problem.statement + problem.header) is not None
    ),
    "residue-cases-nat": lambda problem: (
        _MOD.search(problem.statement) is not None and _NAT_BINDER.search(problem.statement) is not None
    ),
    "instantiate-nat": _has_nat_forall,
    "unfold-local": lambda problem: bool(local_definitions(problem)),
    "ring-simplify-hyps": _uses_reals,
    "pair-squares": _uses_reals,
    "sign-products": _uses_reals,
}


def applies(name: str, problem: ProofProblem | None) -> bool:
    """Whether skeleton `name` is worth a try on `problem` (always, for an unguarded one or no problem)."""
    guard = GUARDS.get(name)
    return problem is None or problem.prover != "coq" or guard is None or guard(problem)


def specialise(steps: tuple[str, ...], problem: ProofProblem | None) -> tuple[str, ...] | None:
    """The steps with per-problem placeholders filled in, or None when they cannot be (no problem given)."""
    if UNFOLD_LOCAL not in steps:
        return steps
    names = local_definitions(problem) if problem is not None else ()
    if not names:
        return None
    unfold = "; ".join(f"try unfold {name} in *" for name in names) + "."
    return tuple(unfold if step == UNFOLD_LOCAL else step for step in steps)
