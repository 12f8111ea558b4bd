"""The built-in proposer: drafts made of simple proof skeletons, each ending in holes for automation.

No model is involved. Each draft prepares the goal in a common way (introduce, substitute, split
hypotheses and goals, case on absolute values, add square facts for `nlinarith`-style reasoning,
compute) and leaves a hole that tool correction fills with the first automation tactic that
closes it; goals left over at `Qed` get holes of their own. Drafts are tried in a fixed order, the
cheapest first, which makes the baseline deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator

from agents.proof_search._script import HOLE, ProofScript

# Ltac fragments, each one sentence; they never fail (wrapped in `try`/`repeat`).
_DESTRUCT_HYPS = (
    "repeat match goal with "
    "| H : _ /\\ _ |- _ => destruct H "
    "| H : exists _, _ |- _ => destruct H "
    "| H : _ <-> _ |- _ => destruct H "
    "end."
)
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

SKELETONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("automation", (HOLE,)),
    ("intros", ("intros.", HOLE)),
    ("intros-subst", ("intros.", "subst.", HOLE)),
    ("destruct-hyps", ("intros.", _DESTRUCT_HYPS, "subst.", _SPLIT_GOAL, HOLE)),
    ("compute", ("intros.", "vm_compute.", HOLE)),
    ("simpl", ("intros.", "simpl in *.", HOLE)),
    ("rabs-cases", ("intros.", _DESTRUCT_HYPS, _RABS_CASES, HOLE)),
    ("square-hints", ("intros.", _DESTRUCT_HYPS, _REAL_SQUARES, _REAL_VAR_SQUARES, HOLE)),
    ("zify", ("intros.", _DESTRUCT_HYPS, "subst.", _NAT_TO_Z, HOLE)),
    ("reflexivity", ("intros.", "subst.", "reflexivity.")),
)


class BuiltinProposer:
    """Yields the skeleton drafts in order; `names` restricts them (e.g. automation only)."""

    def __init__(self, names: tuple[str, ...] | None = None) -> None:
        self.skeletons = [(name, steps) for name, steps in SKELETONS if names is None or name in names]

    def drafts(self) -> Iterator[ProofScript]:
        for name, steps in self.skeletons:
            yield ProofScript(steps, origin=f"skeleton:{name}")
