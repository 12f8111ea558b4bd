"""The built-in proposer: drafts made of simple proof skeletons, each ending in holes for automation.

No model is involved. Each draft prepares the goal in a common way (introduce, substitute, split
hypotheses and goals, case on absolute values, add square facts for `nlinarith`-style reasoning,
compute) and leaves a hole that tool correction fills with the first automation tactic that
closes it; goals left over at `Qed` get holes of their own. Drafts are tried in a fixed order, the
cheapest first, which makes the baseline deterministic. Skeletons for goals of one shape (case
analysis on bounded numbers and remainders, divisibility by residues or induction, instantiated
recurrences and real identities, the header's definitions, real products and squares) live in
`_targeted` and are offered only to statements of that shape; so is `square-equations` (real
statements with `sqrt`): each equation hypothesis multiplied by itself next to the square-root facts,
which is what `psatz` needs to cancel a root against its square (valid `mathd_algebra_510`,
`algebra_amgm_sqrtxymulxmyeqxpy_xpygeq4`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from agents.proof_search._script import HOLE, ProofScript
from agents.proof_search._targeted import (
    DESTRUCT_HYPS,
    EACH_REMAINDER_NAT,
    EACH_REMAINDER_Z,
    TARGETED,
    applies,
    specialise,
)
from tools.proofs import ProofProblem

# Ltac fragments, each one sentence; they never fail (wrapped in `try`/`repeat`).
_SPLIT_GOAL = "repeat match goal with |- _ /\\ _ => split | |- _ <-> _ => split end."
_REAL_SQUARES = (
    "repeat match goal with "
    "| x : R, y : R |- _ => "
    "lazymatch goal with "
    "| _ : 0 <= (x - y) * (x - y) |- _ => fail "
    "| _ => assert (0 <= (x - y) * (x - y)) by apply Rle_0_sqr "
    "end "
    "end."
)
_REAL_VAR_SQUARES = (
    "repeat match goal with "
    "| x : R |- _ => "
    "lazymatch goal with "
    "| _ : 0 <= x * x |- _ => fail "
    "| _ => assert (0 <= x * x) by apply Rle_0_sqr "
    "end "
    "end."
)
_RABS_CASES = (
    "unfold Rabs in *. "
    "repeat match goal with "
    "| |- context [Rcase_abs ?t] => destruct (Rcase_abs t) "
    "| H : context [Rcase_abs ?t] |- _ => destruct (Rcase_abs t) "
    "end."
)
_NAT_TO_Z = "try zify."
# Real-number equations with divisions: `x <> y` becomes `x - y <> 0`, `x / d = c` becomes `x = c * d`.
_NONZERO = (
    "repeat match goal with H : ?x <> ?y |- _ => "
    "match type of x with R => lazymatch y with 0 => fail "
    "| _ => assert (x - y <> 0) by (intro; apply H; lra); clear H end end end."
)
_DIVISIONS = (
    "repeat match goal with H : ?x / ?d = ?c |- _ => assert (x = c * d) by (rewrite <- H; field; auto); clear H end."
)
_GOAL_DIVISIONS = "try (field_simplify_eq; [|auto])."
# Function definitions given as `forall x, f x = ...` are rewritten everywhere they apply.
_REWRITE_DEFS = (
    "repeat match goal with H : forall x : _, ?f x = _, H2 : context [?f _] |- _ => rewrite !H in H2 end. "
    "repeat match goal with H : forall x : _, ?f x = _ |- context [?f _] => rewrite !H end."
)
# Remainders and quotients by constants: the division identity and the bound, for lia/nia. One
# skeleton per type, since a sentence naming a library that is not loaded fails as a whole.
_MOD_FACTS = EACH_REMAINDER_NAT + "."
_MOD_FACTS_Z = EACH_REMAINDER_Z + "."
# Square roots: nonnegative, and squaring back when the radicand is (for nra).
_SQRT_FACT = (
    "lazymatch goal with _ : 0 <= sqrt t |- _ => fail | _ => "
    "pose proof (sqrt_pos t); try (assert (sqrt t * sqrt t = t) by (apply sqrt_sqrt; lra)) end"
)
_SQRT_FACTS = (
    f"repeat match goal with |- context [sqrt ?t] => {_SQRT_FACT} | H : context [sqrt ?t] |- _ => {_SQRT_FACT} end."
)
_INDUCTION = "match goal with n : nat |- _ => induction n end."
_TARGETED = {name: (name, steps) for name, steps in TARGETED}

# Products of hypotheses for `psatz`: each real equation `a = b` multiplied by itself (`a * a = b * b`),
# after the square-root facts, so that `sqrt t * sqrt t = t` can cancel the roots of the squared side.
# Equations whose left side is already a square are skipped, so the new ones are not squared again.
_SQRT_FACTS_NRA = _SQRT_FACTS.replace("apply sqrt_sqrt; lra", "apply sqrt_sqrt; first [lra | nra]")
_SQUARE_EQUATIONS = (
    "repeat match goal with H : @eq R ?a ?b |- _ => lazymatch a with ?u * ?u => fail | _ => "
    "lazymatch goal with _ : a * a = b * b |- _ => fail | _ => "
    "assert (a * a = b * b) by (rewrite H; reflexivity) end end end."
)
SKELETONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # First, where it applies: on a remainder of a power with a constant exponent every automation sweep
    # computes the power in unary and times out, spending the budget before this skeleton's turn.
    _TARGETED["power-mod"],
    _TARGETED["power-mod-z"],
    # Likewise for a computation without variables on large numbers: computed in binary before any sweep.
    _TARGETED["closed-binary"],
    _TARGETED["closed-compute"],
    # And terms of a recurrence at large indices, which rewriting would unfold hundreds of times.
    _TARGETED["recurrence-values"],
    _TARGETED["map-defs"],
    _TARGETED["sum-defs"],
    # And numerals Coq keeps as digits, which every sweep would take for unknowns: their values first.
    _TARGETED["binary-numerals"],
    _TARGETED["binary-numerals-mod"],
    ("automation", (HOLE,)),
    ("intros", ("intros.", HOLE)),
    ("intros-subst", ("intros.", "subst.", HOLE)),
    ("destruct-hyps", ("intros.", DESTRUCT_HYPS, "subst.", _SPLIT_GOAL, HOLE)),
    # Where two roots of one quadratic are in sight (a narrow guard), their sum and product before the rest.
    _TARGETED["quadratic-roots"],
    _TARGETED["power-roots"],
    _TARGETED["witnesses"],
    _TARGETED["residue-reduce"],
    _TARGETED["floor-values"],
    _TARGETED["instantiate-real"],
    _TARGETED["log-expand"],
    _TARGETED["bounded-cases"],
    _TARGETED["bounded-wide"],
    _TARGETED["least-bound"],
    _TARGETED["bounded-cases-z"],
    _TARGETED["ranged-cases-z"],
    _TARGETED["exponent-bounds"],
    _TARGETED["residue-cases-z"],
    _TARGETED["residue-cases-nat"],
    _TARGETED["residue-split"],
    _TARGETED["residue-split-z"],
    _TARGETED["instantiate-nat"],
    _TARGETED["induction-mod"],
    _TARGETED["induction-mod-keep"],
    _TARGETED["power-period"],
    _TARGETED["gcd-lcm"],
    _TARGETED["complex-parts"],
    _TARGETED["cancel-factor"],
    _TARGETED["induction-recurrence"],
    _TARGETED["induction-from"],
    _TARGETED["conditional-defs"],
    ("rewrite-defs", ("intros.", DESTRUCT_HYPS, _REWRITE_DEFS, _SPLIT_GOAL, HOLE)),
    _TARGETED["unfold-local"],
    ("clear-denominators", ("intros.", DESTRUCT_HYPS, _NONZERO, _DIVISIONS, _GOAL_DIVISIONS, HOLE)),
    _TARGETED["cancel-real"],
    _TARGETED["nat-casts"],
    _TARGETED["positive-denominators"],
    _TARGETED["trig-facts"],
    ("mod-facts", ("intros.", DESTRUCT_HYPS, _MOD_FACTS, HOLE)),
    ("mod-facts-z", ("intros.", DESTRUCT_HYPS, _MOD_FACTS_Z, HOLE)),
    ("sqrt-facts", ("intros.", DESTRUCT_HYPS, _REWRITE_DEFS, "simpl.", _SQRT_FACTS, HOLE)),
    _TARGETED["sqrt-values"],
    _TARGETED["solve-roots"],
    ("square-equations", ("intros.", DESTRUCT_HYPS, _SQRT_FACTS_NRA, _SQUARE_EQUATIONS, HOLE)),
    ("rabs-cases", ("intros.", DESTRUCT_HYPS, _RABS_CASES, HOLE)),
    ("square-hints", ("intros.", DESTRUCT_HYPS, _REAL_SQUARES, _REAL_VAR_SQUARES, HOLE)),
    _TARGETED["ring-simplify-hyps"],
    _TARGETED["pair-squares"],
    _TARGETED["sign-products"],
    ("compute", ("intros.", "vm_compute.", HOLE)),
    ("simpl", ("intros.", "simpl in *.", HOLE)),
    ("zify", ("intros.", DESTRUCT_HYPS, "subst.", _NAT_TO_Z, HOLE)),
    ("induction", ("intros.", _INDUCTION, "simpl in *.", HOLE)),
    ("reflexivity", ("intros.", "subst.", "reflexivity.")),
)


class BuiltinProposer:
    """Yields the skeleton drafts in order; `names` restricts them (e.g. automation only).

    `remembered` are whole scripts retrieved from the proof memory for similar goals (adapted to
    this goal's hypothesis names); the search checks each once, as is, before any skeleton.
    """

    def __init__(
        self,
        names: tuple[str, ...] | None = None,
        remembered: Sequence[ProofScript] = (),
        skeletons: tuple[tuple[str, tuple[str, ...]], ...] = SKELETONS,
        *,
        analyse: bool = True,
    ) -> None:
        self.skeletons = [(name, steps) for name, steps in skeletons if names is None or name in names]
        self.remembered = tuple(remembered)
        self.analyse = analyse

    def memory_drafts(self) -> Iterator[ProofScript]:
        yield from self.remembered

    def drafts(self, problem: ProofProblem | None = None) -> Iterator[ProofScript]:
        """The skeletons in order; given the problem, those whose shape it lacks are skipped (see `_targeted`).

        A proposer made with `analyse=False` reads no problem: the skeletons that need none, as written."""
        if not self.analyse:
            problem = None
        for name, steps in self.skeletons:
            if not applies(name, problem):
                continue
            concrete = specialise(steps, problem)
            if concrete is not None:
                yield ProofScript(concrete, origin=f"skeleton:{name}")
