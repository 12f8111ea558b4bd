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
- `residue-split` / `residue-split-z`: divisibility goals (`Nat.divide`, `exists k, a = m * k`)
  become `a mod m = 0`; a hypothesis `x mod m = c` becomes `x = m * q + c`, else one variable of
  the goal is written `m * q + r` and `r < m` enumerated; with each remainder's division identity
  and bound, `nia` sees a polynomial in `q` and does the residue arithmetic.
- `induction-mod` / `induction-mod-keep`: a divisibility goal about a power `b ^ e(n)`, in the
  `a mod m = 0` form, by induction on `n`; the step rewrites `b ^ (e + k)` into `b ^ e * b ^ k` so
  the hypothesis and the goal share the power as one atom for `lia`. `-keep` keeps the premises
  on `n` (for `n <> 0`); the other drops them, since the goal often also holds at `n = 0`.
- `instantiate-real`: an identity `forall x : R, ...` that is not a function's definition (`P x = Q x`
  for all `x`, `f (x + 3) = ...`) is instantiated at `0, 1, -1, 2, -2` (matching coefficients),
  definitions `f x = ...` rewritten into the instances, a conjunction proved left to right (each
  part a hypothesis of the next), and each equation by `nra`, else multiplied by a nonzero factor first.
- `power-mod`: a remainder of a power with constant base and exponent in `nat` (`1999 ^ 2000 mod 5`,
  too large to compute in unary) by square-and-multiply: two lemmas proved in the script
  (`x ^ k mod n = (x mod n) ^ k mod n`, `a ^ e mod n = ((a * a mod n) ^ (e / 2) mod n * (a ^ (e mod 2) mod n)) mod n`)
  are rewritten with, every intermediate number computed at once, so no power above `n * n` is built.
- `complex-parts`: complex numbers (Coquelicot's `C`, pairs of reals) taken apart: each equation
  between complex numbers becomes the equations of its real and imaginary parts (`f_equal fst`/`snd`),
  each complex variable a pair of reals, an equation to prove two equations of parts
  (`injective_projections`), and `Cplus`/`Cmult`/`Ci`/`RtoC` unfolded, so `lra` solves linear systems
  and `nra` identities and products that `ring` on `C` does not normalise numerals for.
- `cancel-factor`: a complex equation `a = b` from a disequality `c <> d` (`x <> r`) and equations:
  the product `(c - d) * (a - b)` is shown zero part by part (`lra`/`nra` on the real and imaginary
  parts of the equations), then divided by `c - d`, nonzero by `Cminus_eq_contra` (Coquelicot's own
  lemmas: `ring` and `field` are not loaded under a header that imports only Coquelicot), so
  `a - b = 0`, whose parts give the goal's.
- `induction-recurrence`: a closed form `u n = ...` of a sequence given by a first-order recurrence
  (`forall n, u (n + 1) = ...` or `u (S n) = ...`) by induction on `n`: the step writes `u (S n)` as
  `u (n + 1)` when that is the recurrence's form, rewrites with the recurrence and the induction
  hypothesis, splits powers `b ^ (n + 1)` into `b ^ n * b`, and adds `n < b ^ n` for each power, so
  `lia` handles the truncated subtraction of `2 ^ (n + 1) - (n + 2)`.

- `log-expand`: logarithms (`ln`, `Rpower`, `exp`, the header's `logb`) taken apart: equations between powers
  become equations between logarithms, a goal `a * b = 512` one between their logarithms (`ln_inv`), `ln` of
  products, inverses and powers rewritten into sums (each side condition `0 < t` from the positivity facts),
  `ln n` of a composite numeral into multiples of `ln p` for its primes (so `ln 8` and `ln 4` share `ln 2`),
  each logarithm's sign and each pair's order added, and denominators cleared, for `lra`/`nra`.
- `positive-denominators`: an inequality whose denominators are positive is multiplied by their product
  and `field_simplify`d into a polynomial one, with each square root squared back, for `nra`/`psatz`.
- `cancel-real`: a real equation `a = b` with a nonzero factor in sight (`x <> y` as `x - y <> 0`): the
  hypotheses' denominators cleared, `c * (a - b) = 0` shown by `nra`, and `c` cancelled (`x + 2/x = y + 2/y`).
- `trig-facts`: each `sin t`/`cos t` with its bounds, `sin t ^ 2 + cos t ^ 2 = 1` and, where the hypotheses place
  `t` in a half period, its sign (`PI`'s bounds added); double angles written through the single one; then
  positive denominators cleared as in `positive-denominators`, the sines and cosines atoms for `nra`/`psatz`.
- `exponent-bounds`: a natural number in an exponent (`2 ^ x * 3 ^ y = 1296`) is bounded by the statement's
  largest number, enumerated, and each case's equation decided by computing in binary integers.
- `power-period`: a power `b ^ n` under a modulus `m` coprime to `b` repeats with `b`'s order `p` modulo `m`:
  `n = p * q + r`, `(b ^ p) ^ q mod m = 1` by induction, each residue `r` then linear (`7 | 2 ^ n + 1` never).
- `gcd-lcm`: premises about `Nat.gcd x y`/`Nat.lcm x y` become arithmetic (`x = a * g`, `y = b * g`, the lcm
  unfolded to `x * (y / g)` and the quotient computed), every factor of a positive product nonzero, then
  `nia`, else one witness enumerated as in `bounded-wide` (`gcd 6, lcm 126` gives `a * 6 * b = 126`).
- `conditional-defs`: a function defined under premises (`x <> -2 -> f x = ...`, or piecewise) rewritten at
  each application in the goal, innermost first, each premise shown by `lra` at the argument (`PI`'s bounds
  `3 < PI < 7 / 2` in sight, for a piece at `PI`).
- `nat-casts`: natural numbers seen through `INR`/`IZR (Z.of_nat _)` moved wholly into the reals (a goal in
  `nat` through `INR_eq`/`INR_lt`/`INR_le`, facts through `f_equal INR`/`lt_INR`/`le_INR`, numerals computed,
  each cast variable nonnegative), then the real denominators cleared as in `positive-denominators`.
- `power-mod` also reduces the remainders of powers in hypotheses (moved into the goal and back), and is tried
  before every general skeleton, whose automation would spend the budget computing the power in unary.
- `power-mod-z`: the same for integers (`5 ^ 2005 mod 100` in `Z`). Coq computes such a remainder in binary, so
  automation proves it, but the kernel re-check (`coqchk`, which has no virtual machine) then rebuilds the whole
  power: 65 s for that statement, against 0.9 s for the square-and-multiply script, whose terms stay below
  `n * n`. Tried first, like `power-mod`; the lemmas are proved in the script by `natlike_ind`.
- `least-bound`: a conclusion `k <= x` (or `x >= k`) about a natural number, as statements asking for the least
  solution end (`(30 * x) mod 47 = 42 -> 39 <= x`): every value of `x` below `k` (up to `LEAST_BOUND`) refuted in
  turn, by `lia` on the hypotheses once they are computed.
- `map-defs` / `sum-defs`: a function given by a rule for every argument (`forall n, v n = 2 * n - 1`, maybe
  under a premise on `n`) but passed whole to a list's `map` or to `sum_f_R0`, which `rewrite` cannot reach: the
  map or sum rewritten term by term (`map_ext_in`, the index's range from `in_seq`; `sum_eq`), then computed.
- `quadratic-roots`: two distinct roots of one quadratic with numeric coefficients (of a function's rule, or
  two equations), their sum and product asserted (Vieta; see `_quadratic_roots`), the goal's denominators shown
  nonzero and cleared.
- `recurrence-values`: a sequence of integers or natural numbers given by its first terms and a recurrence, asked
  about at numeral indices (`x 531 + x 753 + x 975`): the terms computed by iterating the recurrence's window in
  the virtual machine, tied to the sequence by induction (see `_recurrence_values`).

- `residue-reduce`: a remainder of sums, products and powers in `nat` (`((x + 1) ^ 2 * (y + 5) ^ 3) mod 19`) pushed
  onto the operands, the known remainders of variables (`x mod 19 = 4`) rewritten in, powers of numbers halved as in
  `power-mod`, and what is left without variables computed. Offered only with a power under the remainder: for
  linear residues `lia` does better from the division identities (`mod-facts`).
- `closed-binary`: a statement without variables about natural numbers too large for unary arithmetic (a power, or
  a number of four digits) moved into binary integers through `Nat2Z` and computed; the list functions it names
  (`seq`, `map`, `fold_right`, ...) are unfolded first. Tried right after `power-mod`, before any sweep.
- `closed-compute`: any other statement without variables in `nat` (a count over a list built from the header's
  definitions, `length (filter condition (list_prod ...)) = 100`) decided by evaluating both sides in the virtual
  machine, before the sweeps, whose tactics each try to reason about the unevaluated program until their timeout.
- `binary-numerals`: natural numerals of 5000 and more, which Coq keeps as their digits (`Nat.of_num_uint`) and the
  arithmetic tactics take for unknowns, each given its value in small numerals (`39500 = 39 * 1000 + 500`, shown
  by computing `Nat.eqb` in the virtual machine); `-mod` adds every remainder's division identity and bound.
- `sqrt-values`: square roots of numbers computed: square factors taken out of numerals (`sqrt 80` as
  `4 * sqrt 5`), roots of perfect squares (any closed radicand, `sqrt (2 * 8 - 7)`) found by `sqrt_lem_1`, a goal
  `sqrt X = Y` squared, the remaining roots known positive with their squares, denominators cleared.
- `induction-from`: a statement about every natural number from a bound on, by induction on the proof of the
  bound (`le_ind`), so the step keeps the bound; `n > 3` is read as `4 <= n`. Offered where something recursive
  (a factorial, a power with a variable exponent, a sum or product, a `Fixpoint`) is in sight.
- `solve-roots`: real unknowns solved before substituting: each that `nra` shows equal to 0, 1, -1 or 2, then
  each that it shows equal to `sqrt t` or `- sqrt t` for a root of the statement (its square and sign known).
- `floor-values`: integer parts computed: Coquelicot's `floor` and `Int_part` written through `up`, square roots
  of numerals bounded by consecutive integers, and each `up t` found among a range of integers by `tech_up`.

The guards read the header's `Require` of the reals also in its full name (`Coq.Reals.Reals`, 30 miniF2F
headers): before, every real-number skeleton was withheld from those statements.

Lemmas about `nat` are named in full (`PeanoNat.Nat.mul_mod`): a header that imports only `Nat`
(`Coq.Init.Nat`, as many miniF2F statements do) hides the short names `Nat.mul_mod`, while the
automation imports (`Lia`) always load `PeanoNat`, so the full names work under every header.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from agents.proof_search._memory import premises_and_conclusion
from agents.proof_search._power_roots import power_roots
from agents.proof_search._quadratic_roots import CLEAR_DENOMINATORS, DENOMINATORS_NONZERO, quadratic_root_facts
from agents.proof_search._recurrence_values import recurrence, recurrence_values
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
UNFOLD_LOCAL_OPTIONAL = "<unfold local definitions, if any>"
"""The same, left out (`idtac.`) when the header defines nothing."""

DESTRUCT_HYPS = (
    "repeat match goal with "
    "| H : _ /\\ _ |- _ => destruct H "
    "| H : exists _, _ |- _ => destruct H "
    "| H : _ <-> _ |- _ => destruct H "
    "end."
)
"""Split conjunctions, existentials and equivalences in hypotheses (the general skeletons use it too)."""


def _case_pattern(bound: int, rest: str = "n") -> str:
    """`[|[|...[|n]...]]`: `bound + 1` numerals and the successor of the last (named `rest`), for `destruct`."""
    return "[|" * (bound + 1) + rest + "]" * (bound + 1)


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
RANGE_BOUND = 20
"""The widest range `ranged-cases-z` enumerates an integer over (`4 <= p <= 18`: 15 values)."""
# An integer the statement bounds by numerals on both sides (`(4 <= p <= 18)%Z`), too wide for `bounded-cases-z`'s
# `nia` bounds around zero, becomes `lo + Z.of_nat k` with `k` enumerated; the bounds are read from the hypotheses,
# so nothing has to be proved about where the integer lies.
_RANGED_CASES_Z = (
    "repeat match goal with H1 : (?lo <= ?z)%Z, H2 : (?z <= ?hi)%Z |- _ => is_var z; "
    'let k := fresh "k" in '
    "assert (exists k : nat, z = (lo + Z.of_nat k)%Z) as [k ->] "
    "by (exists (Z.to_nat (z - lo)); rewrite Z2Nat.id; lia); "
    f"assert (k <= {RANGE_BOUND})%nat by lia; destruct k as {_case_pattern(RANGE_BOUND)}; try (exfalso; lia) end."
)
COMPOSITE_PRIMES = "<prime hypotheses on composite numerals refuted>"
"""Placeholder step replaced per problem (`ranged-cases-z`): where the statement names Znumtheory's `prime`, each
case left with `prime n` for a composite numeral `n` is closed by a divisor of `n` (`prime_divisors`)."""
_SMALL_PRIMES = (2, 3, 5, 7, 11, 13)
_COMPOSITE_PRIMES = (
    "all: try (simpl in *; match goal with H : prime ?n |- _ => first ["
    + " | ".join(
        f"pose proof (prime_divisors n H {d} ltac:(exists (n / {d}); reflexivity)); lia" for d in _SMALL_PRIMES
    )
    + "] end)."
)
# `witnesses`: an existential conclusion over nat or Z (`exists m, m > n /\ exists p, m * p <= m + p`) is given
# witnesses from small numbers and the variables in scope (`n`, `S n`, `2 * n`), nested ones in turn, with
# backtracking (`+`, `multimatch`): a witness is kept only if `lia` or `nia` then closes everything under it. An
# implication under a witness is introduced, so a witness may also refute its premise (`exists a, P a -> Q`).
_WITNESS_NAT = (
    "| |- exists _ : nat, _ => (exists 0 + exists 1 + exists 2 + multimatch goal with v : nat |- _ => "
    "(exists v + exists (S v) + exists (2 * v)) end); w "
)
_WITNESS_Z = (
    "| |- exists _ : Z, _ => (exists 0%Z + exists 1%Z + exists (-1)%Z + exists 2%Z + multimatch goal with "
    "v : Z |- _ => (exists v + exists (v + 1)%Z + exists (2 * v)%Z) end); w "
)
WITNESSES = "<existential conclusions given witnesses>"
"""Placeholder step replaced per problem (`witnesses`): the integer branch only where `Z` is loaded, as a
sentence naming an unloaded type fails as a whole."""


def witnesses(problem: ProofProblem) -> str:
    integers = _WITNESS_Z if _Z.search(problem.header + problem.statement) else ""
    return (
        f"timeout 20 (let rec w := lazymatch goal with {_WITNESS_NAT}{integers}"
        "| |- _ /\\ _ => split; w | |- _ -> _ => intro; w "
        "| |- _ => solve [lia | timeout 2 nia | simpl in *; lia] end in w)."
    )


POWER_ROOTS = "<natural unknowns fixed by power equations>"
"""Placeholder step replaced per problem (`power-roots`, see `_power_roots`)."""
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
    "pose proof (PeanoNat.Nat.mod_upper_bound a m ltac:(lia)); "
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

RESIDUE_BOUND = 19
"""`residue-split` enumerates remainders below a modulus of at most RESIDUE_BOUND + 1."""
# Divisibility in the goal and hypotheses becomes a remainder of zero, which the steps below reason about.
_TO_MOD_NAT = (
    "try match goal with "
    "| |- exists k, (?a = ?b * k)%nat => exists (Nat.div a b); apply PeanoNat.Nat.div_exact; [lia|] "
    "| |- exists k, (?a = k * ?b)%nat => "
    "exists (Nat.div a b); rewrite PeanoNat.Nat.mul_comm; apply PeanoNat.Nat.div_exact; [lia|] "
    "| |- exists k, (?b * k = ?a)%nat => exists (Nat.div a b); symmetry; apply PeanoNat.Nat.div_exact; [lia|] "
    "| |- exists k, (k * ?b = ?a)%nat => "
    "exists (Nat.div a b); rewrite PeanoNat.Nat.mul_comm; symmetry; apply PeanoNat.Nat.div_exact; [lia|] "
    "| |- Nat.divide ?b ?a => apply PeanoNat.Nat.mod_divide; [lia|] "
    "end; "
    "repeat match goal with H : Nat.divide ?b ?a |- _ => apply PeanoNat.Nat.mod_divide in H; [|lia] end."
)
_TO_MOD_Z = (
    "try match goal with |- Z.divide ?b ?a => apply Z.mod_divide; [lia|] end; "
    "repeat match goal with H : Z.divide ?b ?a |- _ => apply Z.mod_divide in H; [|lia] end."
)
# `x mod m = c` for a variable `x`: `x` is replaced by `m * q + c` everywhere.
_SUBST_RESIDUES_NAT = (
    "repeat match goal with H : Nat.modulo ?x ?m = ?c |- _ => is_var x; "
    'let q := fresh "q" in let E := fresh "E" in '
    "pose proof (PeanoNat.Nat.div_mod_eq x m) as E; rewrite H in E; clear H; "
    "set (q := Nat.div x m) in E; clearbody q; subst x end."
)
_SUBST_RESIDUES_Z = (
    "repeat match goal with H : Z.modulo ?x ?m = ?c |- _ => is_var x; "
    'let q := fresh "q" in let E := fresh "E" in '
    "pose proof (Z.div_mod x m ltac:(lia)) as E; rewrite H in E; clear H; "
    "set (q := Z.div x m) in E; clearbody q; subst x end."
)
# Otherwise one variable of a goal `... mod m ...` is written `m * q + r` with `r < m` (a natural number).
_SPLIT_RESIDUE_NAT = (
    "try match goal with x : nat |- context [Nat.modulo _ ?m] => "
    'let q := fresh "q" in let r := fresh "r" in let B := fresh "B" in '
    "assert (exists q r, (x = m * q + r /\\ r < m)%nat) as [q [r [-> B]]] "
    "by (exists (Nat.div x m), (Nat.modulo x m); "
    "split; [apply PeanoNat.Nat.div_mod_eq | apply PeanoNat.Nat.mod_upper_bound; lia]) end."
)
_SPLIT_RESIDUE_Z = (
    "try match goal with x : Z |- context [Z.modulo _ ?m] => "
    'let q := fresh "q" in let r := fresh "r" in let k := fresh "k" in let B := fresh "B" in '
    "assert (exists q r, (x = m * q + r /\\ 0 <= r < m)%Z) as [q [r [-> B]]] "
    "by (exists (Z.div x m), (Z.modulo x m); split; [apply Z.div_mod; lia | apply Z.mod_pos_bound; lia]); "
    "assert (exists k : nat, r = Z.of_nat k) as [k ->] by (exists (Z.to_nat r); rewrite Z2Nat.id; lia); "
    f"assert (k < {RESIDUE_BOUND + 1})%nat by lia end."
)
_RESIDUE_ENUMERATE = (
    "repeat match goal with r : nat, _ : (?r < ?m)%nat |- _ => is_var r; "
    f"destruct r as {_case_pattern(RESIDUE_BOUND, '?')}; try (exfalso; lia) end."
)
_MOD_IDENTITY_NAT = (
    "lazymatch goal with _ : a = Nat.add (Nat.mul b (Nat.div a b)) (Nat.modulo a b) |- _ => fail | _ => "
    "pose proof (PeanoNat.Nat.div_mod_eq a b); "
    "assert (Nat.lt (Nat.modulo a b) b) by (apply PeanoNat.Nat.mod_upper_bound; lia) end"
)
_MOD_IDENTITY_Z = (
    "lazymatch goal with _ : a = Z.add (Z.mul b (Z.div a b)) (Z.modulo a b) |- _ => fail | _ => "
    "pose proof (Z.div_mod a b ltac:(lia)); pose proof (Z.mod_pos_bound a b ltac:(lia)) end"
)


def _each_remainder(fact: str, *patterns: str) -> str:
    branches = " ".join(
        f"| H : context [{pattern}] |- _ => {fact} | |- context [{pattern}] => {fact}" for pattern in patterns
    )
    return f"repeat match goal with {branches} end"


EACH_REMAINDER_NAT = _each_remainder(_MOD_IDENTITY_NAT, "Nat.modulo ?a ?b", "Nat.div ?a ?b")
"""Every `a mod b` and `a / b` (nat) in the goal or hypotheses gets its division identity and bound, once (the
general `mod-facts` skeleton uses it too): a quotient alone (`x / 10 = y`) is as opaque to `lia` as a remainder."""
EACH_REMAINDER_Z = _each_remainder(_MOD_IDENTITY_Z, "Z.modulo ?a ?b", "Z.div ?a ?b")
"""The same for `Z.modulo` and `Z.div`."""

_CLOSE_RESIDUES_NAT = "all: simpl Nat.pow in *; " + EACH_REMAINDER_NAT + "; try (timeout 3 nia)."
_CLOSE_RESIDUES_Z = (
    "all: simpl Z.of_nat in *; repeat rewrite Z.pow_2_r in *; " + EACH_REMAINDER_Z + "; try (timeout 3 nia)."
)
# Induction on the variable of a power's exponent (`b ^ (2 * n + 1)`, `10 ^ n`), premises about it dropped.
_INDUCTION_ON_EXPONENT = (
    "match goal with n : nat |- context [Nat.pow _ ?e] => lazymatch e with context [n] => idtac end; "
    "{clear} induction n end."
)
_BASE_CASE = "all: try (simpl; reflexivity); try lia."
_SPECIALISE_IH = "try match goal with IH : ?P -> _ |- _ => specialize (IH ltac:(lia)) end."
_POWER_STEP = (
    "rewrite ?PeanoNat.Nat.mul_succ_r, ?PeanoNat.Nat.pow_succ_r', "
    "?PeanoNat.Nat.pow_add_r, ?PeanoNat.Nat.pow_mul_r in *."
)
_POWER_FACT = (
    "lazymatch goal with _ : Nat.lt 0 (Nat.pow b e) |- _ => fail | _ => "
    "assert (Nat.lt 0 (Nat.pow b e)) by (apply PeanoNat.Nat.neq_0_lt_0, PeanoNat.Nat.pow_nonzero; lia) end"
)
_POWERS_POSITIVE = f"repeat match goal with |- context [Nat.pow ?b ?e] => {_POWER_FACT} end."
_CLOSE_POWER_STEP = "simpl Nat.pow in *; " + EACH_REMAINDER_NAT + "; try (timeout 3 lia)."


def _induction_mod(keep_premises: bool) -> tuple[str, ...]:
    clear = "" if keep_premises else "repeat match goal with H : context [n] |- _ => clear H end; "
    return (
        "intros.",
        _TO_MOD_NAT,
        _INDUCTION_ON_EXPONENT.format(clear=clear),
        _BASE_CASE,
        _SPECIALISE_IH,
        _POWER_STEP,
        _POWERS_POSITIVE,
        _CLOSE_POWER_STEP,
    )


REAL_POINTS = ("0%R", "1%R", "(-1)%R", "2%R", "(-2)%R")
"""Where `instantiate-real` instantiates an identity in `x : R` (five points fix a quartic's coefficients)."""
_INSTANTIATE_REAL = (
    "repeat match goal with H : forall x : R, _ |- _ => "
    "lazymatch type of H with forall x : R, ?f x = _ => fail | _ => "
    + "; ".join(f"pose proof (H {point})" for point in REAL_POINTS)
    + "; clear H end end."
)
_REAL_PREMISES = "repeat match goal with H : ?P -> _ |- _ => specialize (H ltac:(repeat split; lra)) end."
_REWRITE_REAL_DEFS = (
    "repeat match goal with H : forall x : R, ?f x = _, H2 : context [?f _] |- _ => rewrite !H in H2 end; "
    "repeat match goal with H : forall x : R, ?f x = _ |- context [?f _] => rewrite !H end."
)
_CONJUNCTS_IN_ORDER = (
    'repeat match goal with |- ?A /\\ _ => let H := fresh "H" in assert A as H; [|split; [exact H|]] end.'
)
_CLOSE_REAL_EQUATIONS = (
    "all: try first [timeout 3 nra | match goal with H : ?b <> 0%R |- @eq R _ _ => "
    "apply (Rmult_eq_reg_r b); [timeout 3 nra | exact H] end]."
)

# `power-mod`: the two lemmas are proved in an emptied context (`clear`), so their own names never clash with
# the statement's (`a`, `n`). Then reduce the base below the modulus, then halve the exponent, computing each new number
# (`vm_compute` on small terms) and replacing it with `change`, so the kernel never builds a large power.
_POWER_MOD_BASE = (
    "assert (PW : (forall x k n : nat, n <> 0 -> (x ^ k) mod n = ((x mod n) ^ k) mod n)%nat) by ("
    "clear; intros x k n Hn; induction k as [|k IH]; [reflexivity|]; "
    "change (x ^ S k)%nat with (x * x ^ k)%nat; change ((x mod n) ^ S k)%nat with (x mod n * (x mod n) ^ k)%nat; "
    "rewrite (PeanoNat.Nat.mul_mod x (x ^ k) n Hn), IH; symmetry; "
    "rewrite (PeanoNat.Nat.mul_mod (x mod n) ((x mod n) ^ k) n Hn), (PeanoNat.Nat.mod_mod x n Hn); reflexivity)."
)
_POWER_MOD_HALVE = (
    "assert (PM : (forall a e n : nat, n <> 0 -> "
    "(a ^ e) mod n = (((a * a) mod n) ^ (e / 2) mod n * (a ^ (e mod 2) mod n)) mod n)%nat) by ("
    "clear - PW; intros a e n Hn; rewrite (PeanoNat.Nat.div_mod_eq e 2) at 1; "
    "rewrite PeanoNat.Nat.pow_add_r, PeanoNat.Nat.pow_mul_r; "
    "change (a ^ 2)%nat with (a * (a * 1))%nat; "
    "rewrite PeanoNat.Nat.mul_1_r, (PeanoNat.Nat.mul_mod _ _ n Hn), (PW (a * a)%nat _ n Hn); reflexivity)."
)
# A hypothesis with such a remainder (`5 ^ 100 mod 1000 = 100 * a + 10 * b + c`) is moved into the goal, so the
# one reduction below computes it too (and `intros` brings it back, computed).
_REVERT_POWER_MODS = "repeat match goal with H : context [Nat.modulo (Nat.pow _ _) _] |- _ => revert H end."


# What the reduction leaves is a remainder of a product of numbers below the modulus: computed at once (in the
# virtual machine), and kept only when the result is a numeral (a remainder with a variable in it stays).
def _compute_remainders(modulo: str, numeral: str) -> str:
    """Every remainder `modulo x m` of the goal and hypotheses computed, where `numeral` (an Ltac check of `v`)
    accepts the result; `power-mod` and `power-mod-z` differ only in the type's names and numerals."""
    one = f"let v := eval vm_compute in ({modulo} x m) in {numeral}; change ({modulo} x m) with v in *"
    return (
        f"repeat match goal with |- context [{modulo} ?x ?m] => {one} | _ : context [{modulo} ?x ?m] |- _ => {one} end."
    )


_COMPUTE_REMAINDERS = _compute_remainders(
    "Nat.modulo", "let rec numeral n := lazymatch n with O => idtac | S ?p => numeral p end in numeral v"
)
_POWER_MOD_REDUCE = (
    "repeat match goal with |- context [Nat.modulo (Nat.pow ?a ?e) ?n] => "
    "lazymatch eval vm_compute in (Nat.leb n a) with "
    "| true => let r := eval vm_compute in (Nat.modulo a n) in "
    "rewrite (PW a e n) by discriminate; change (Nat.modulo a n) with r "
    "| false => lazymatch eval vm_compute in (Nat.leb e 1) with "
    "| true => let v := eval vm_compute in (Nat.modulo (Nat.pow a e) n) in "
    "change (Nat.modulo (Nat.pow a e) n) with v "
    "| false => let s := eval vm_compute in (Nat.modulo (Nat.mul a a) n) in "
    "let q := eval vm_compute in (Nat.div e 2) in let r := eval vm_compute in (Nat.modulo e 2) in "
    "rewrite (PM a e n) by discriminate; change (Nat.modulo (Nat.mul a a) n) with s; "
    "change (Nat.div e 2) with q; change (Nat.modulo e 2) with r end end end."
)

# `power-mod-z`: the same reduction for integers. Coq computes `5 ^ 2005 mod 100` in binary at once, so `lia`
# proves it in the search, but the proof term makes the kernel check rebuild the power without the virtual machine:
# `coqchk` spent 65 s on it (the gate's limit is 120 s), against 0.9 s for the square-and-multiply script.
# `natlike_ind` gives the induction on a nonnegative integer exponent.
_POWER_MOD_BASE_Z = (
    "assert (PWZ : forall x k n : Z, (n <> 0 -> 0 <= k -> (x ^ k) mod n = ((x mod n) ^ k) mod n)%Z) by ("
    "clear; intros x k n Hn Hk; pattern k; apply natlike_ind; [reflexivity| |exact Hk]; "
    "intros j Hj IH; rewrite !Z.pow_succ_r by exact Hj; "
    "rewrite (Z.mul_mod x (x ^ j) n Hn), IH; symmetry; "
    "rewrite (Z.mul_mod (x mod n) ((x mod n) ^ j) n Hn), (Z.mod_mod x n Hn); reflexivity)."
)
_POWER_MOD_HALVE_Z = (
    "assert (PMZ : forall a e n : Z, (n <> 0 -> 0 <= e -> "
    "(a ^ e) mod n = (((a * a) mod n) ^ (e / 2) mod n * (a ^ (e mod 2) mod n)) mod n)%Z) by ("
    "clear - PWZ; intros a e n Hn He; pose proof (Z.div_pos e 2 He ltac:(lia)); "
    "pose proof (Z.mod_pos_bound e 2 ltac:(lia)); rewrite (Z.div_mod e 2) at 1 by discriminate; "
    "rewrite Z.pow_add_r, Z.pow_mul_r by lia; change (a ^ 2)%Z with (a * (a * 1))%Z; "
    "rewrite Z.mul_1_r, (Z.mul_mod _ _ n Hn), (PWZ (a * a)%Z _ n Hn) by lia; reflexivity)."
)
_REVERT_POWER_MODS_Z = "repeat match goal with H : context [Z.modulo (Z.pow _ _) _] |- _ => revert H end."
_Z_NUMERAL = (
    "let rec digits p := lazymatch p with xH => idtac | xO ?q => digits q | xI ?q => digits q end in "
    "lazymatch v with Z0 => idtac | Zpos ?p => digits p | Zneg ?p => digits p end"
)
_COMPUTE_REMAINDERS_Z = _compute_remainders("Z.modulo", _Z_NUMERAL)
_POWER_MOD_REDUCE_Z = (
    "repeat match goal with |- context [Z.modulo (Z.pow ?a ?e) ?n] => "
    "lazymatch eval vm_compute in (andb (Z.ltb 0 n) (Z.leb 0 e)) with false => fail | true => "
    "lazymatch eval vm_compute in (Z.leb n a || Z.ltb a 0)%bool with "
    "| true => let r := eval vm_compute in (Z.modulo a n) in "
    "rewrite (PWZ a e n) by (discriminate || lia); change (Z.modulo a n) with r "
    "| false => lazymatch eval vm_compute in (Z.leb e 1) with "
    "| true => let v := eval vm_compute in (Z.modulo (Z.pow a e) n) in "
    "change (Z.modulo (Z.pow a e) n) with v "
    "| false => let s := eval vm_compute in (Z.modulo (Z.mul a a) n) in "
    "let q := eval vm_compute in (Z.div e 2) in let r := eval vm_compute in (Z.modulo e 2) in "
    "rewrite (PMZ a e n) by (discriminate || lia); change (Z.modulo (Z.mul a a) n) with s; "
    "change (Z.div e 2) with q; change (Z.modulo e 2) with r end end end end."
)


# `least-bound`: a goal `k <= x` (or `x >= k`) about a natural number `x` is shown by refuting each `x < k` in turn:
# `x` is taken apart one successor at a time, each value closed by `lia` on the hypotheses, computed first if need be
# (`lia` does not evaluate `(30 * 7) mod 47`), until the bound itself refutes what is left. Statements that ask for the
# least solution (`(30 * x) mod 47 = 42 -> 39 <= x`) have this shape. Up to `LEAST_BOUND` values.
LEAST_BOUND = 400
_REFUTE_BELOW = (
    f"is_var x; lazymatch eval vm_compute in (Nat.leb k {LEAST_BOUND}) with true => "
    "apply PeanoNat.Nat.nlt_ge; intro; rename x into lb_v; "
    "let rec below k := lazymatch k with O => idtac "
    "| S ?j => destruct lb_v as [|lb_v]; [try first [timeout 1 lia | simpl in *; timeout 1 lia] | below j] end "
    "in below k; try lia end"
)
# `x >= k` is unfolded first; inside `try`, a branch that then fails leaves the goal as it was.
_LEAST_BOUND = (
    f"all: try match goal with |- (?k <= ?x)%nat => {_REFUTE_BELOW} "
    f"| |- (?x >= ?k)%nat => unfold ge; {_REFUTE_BELOW} end."
)


# `complex-parts`: one sentence each; a name from Coquelicot is only met where the guard saw `C`.
_C_EQUATION_PARTS = (
    "repeat match goal with H : @eq C _ _ |- _ => "
    'let re := fresh "Hre" in let im := fresh "Him" in '
    "pose proof (f_equal fst H) as re; pose proof (f_equal snd H) as im; clear H end."
)
_C_VARIABLE_PARTS = (
    'repeat match goal with z : C |- _ => let a := fresh "re" in let b := fresh "im" in destruct z as [a b] end.'
)
_SPLIT_CONJUNCTIONS = "repeat match goal with |- _ /\\ _ => split end."
_C_GOAL_PARTS = "all: try apply injective_projections."
_C_UNFOLD = "all: unfold Cminus, Cplus, Cmult, Copp, Cinv, Cdiv, RtoC, Ci in *; simpl in *."
_CLOSE_PARTS = "all: try first [timeout 3 lra | timeout 3 nra]."

# `cancel-factor`: the operations are named, not written with `-`/`*` (whose meaning depends on the
# open scope), and zero is written through `IZR`, since a header importing only Coquelicot has no
# `%R` key and reads a bare `0` as a natural number.
_C_ZERO = "RtoC (Rdefinitions.IZR BinNums.Z0)"
_CANCEL_FACTOR = (
    "match goal with H : ?c <> ?d |- @eq C ?a ?b => "
    'let NZ := fresh "NZ" in let P := fresh "P" in let Q := fresh "Q" in '
    "pose proof (Cminus_eq_contra c d H) as NZ; "
    f"assert (P : Cmult (Cminus c d) (Cminus a b) = {_C_ZERO}) by (clear H NZ; "
    + _C_EQUATION_PARTS.removesuffix(".")
    + "; "
    + _C_VARIABLE_PARTS.removesuffix(".")
    + "; apply injective_projections; "
    + _C_UNFOLD.removeprefix("all: ").removesuffix(".")
    + "; first [timeout 3 lra | timeout 3 nra]); "
    f"assert (Q : Cminus a b = {_C_ZERO}) by ("
    "transitivity (Cmult (Cinv (Cminus c d)) (Cmult (Cminus c d) (Cminus a b))); "
    "[rewrite Cmult_assoc, (Cinv_l _ NZ), Cmult_1_l; reflexivity | rewrite P; apply Cmult_0_r]); "
    "clear P NZ end."
)

# `induction-recurrence`: each sentence rewrites at most once per hypothesis, so none can loop.
_INDUCTION_ON_INDEX = "match goal with n : nat |- _ => induction n as [|n IH] end."
_RECURRENCE_SUCC = (
    "all: try match goal with H : forall k : nat, ?u (S k) = _ |- context [?u (S ?m)] => rewrite (H m) end."
)
_RECURRENCE_PLUS_ONE = (
    "all: try match goal with H : forall k : nat, ?u (k + 1) = _ |- context [?u (S ?m)] => "
    "replace (u (S m)) with (u (m + 1)) by (f_equal; lia); rewrite (H m) end."
)
_REWRITE_IH = "all: try rewrite IH."
_POWER_BELOW = (
    "all: repeat match goal with |- context [Nat.pow ?b ?e] => lazymatch goal with "
    "| _ : e < Nat.pow b e |- _ => fail | _ => pose proof (PeanoNat.Nat.pow_gt_lin_r b e ltac:(lia)) end end."
)
_POWER_SPLIT = "all: rewrite ?PeanoNat.Nat.pow_add_r, ?PeanoNat.Nat.pow_succ_r' in *; simpl Nat.pow in *."
_CLOSE_RECURRENCE = "all: try (timeout 3 lia)."

# `log-expand`: logarithms taken apart into sums of logarithms of variables and primes, so `lra`/`nra`
# see linear relations between a few atoms `ln x`. Each `ln_*` lemma needs a positive argument; the
# side condition is proved from the positivity facts gathered first (or by `ln` of a number above 1).
_POSITIVE = (
    "solve [repeat first [assumption | apply Rmult_lt_0_compat | apply Rinv_0_lt_compat | apply pow_lt "
    "| apply exp_pos | (rewrite <- ln_1; apply ln_increasing; timeout 2 lra) | timeout 2 lra]]"
)
# `>=` and `>` written as `<=` and `<` (unfolding `Rge` would give a disjunction).
_ORDER_FORMS = (
    "repeat match goal with H : Rge _ _ |- _ => apply Rge_le in H end; try apply Rle_ge; try unfold Rgt in *."
)
_POSITIVE_VARIABLES = (
    "repeat match goal with x : R |- _ => lazymatch goal with _ : Rlt 0%R x |- _ => fail | _ => "
    "assert (Rlt 0%R x) by (timeout 2 lra) end end."
)
# An equation between powers (`Rpower 7 (x + 7) = Rpower 8 x`, `exp a = b`) becomes one between logarithms.
_LN_OF_POWER_EQUATIONS = (
    "repeat match goal with H : @eq R ?a ?b |- _ => "
    "lazymatch a with Rpower _ _ => idtac | exp _ => idtac | _ => "
    "lazymatch b with Rpower _ _ => idtac | exp _ => idtac end end; apply (f_equal ln) in H end."
)
_LN_EXPAND = (
    "repeat first [rewrite ln_Rpower in * | rewrite ln_exp in * | rewrite ln_1 in * "
    f"| rewrite ln_mult in * by ({_POSITIVE}) | rewrite ln_Rinv in * by ({_POSITIVE}) "
    f"| rewrite ln_pow in * by ({_POSITIVE})]; simpl INR in *."
)
LN_NUMERALS = "<logarithms of composite numerals as sums of logarithms of primes>"
"""Placeholder step replaced per problem (`log-expand`): `ln 8` becomes `3 * ln 2` (see `ln_numerals`)."""
# The sign of each logarithm (against `ln 1 = 0`), then the order of each pair (`ln b <= ln a` from `b <= a`).
_LN_SIGN = (
    "lazymatch goal with "
    "| _ : Rlt 0%R (ln u) |- _ => fail | _ : Rlt (ln u) 0%R |- _ => fail | _ : ln u = 0%R |- _ => fail | _ => "
    "first [assert (Rlt 0%R (ln u)) by (rewrite <- ln_1; apply ln_increasing; timeout 2 lra) "
    "| assert (Rlt (ln u) 0%R) by (rewrite <- ln_1; apply ln_increasing; timeout 2 lra)] end"
)
_LN_SIGNS = f"repeat match goal with |- context [ln ?u] => {_LN_SIGN} | _ : context [ln ?u] |- _ => {_LN_SIGN} end."
_LN_ORDER = (
    "repeat match goal with |- context [ln ?u] => match goal with |- context [ln ?v] => lazymatch goal with "
    "| _ : Rle (ln u) (ln v) |- _ => fail | _ : Rle (ln v) (ln u) |- _ => fail "
    "| _ : Rlt (ln u) (ln v) |- _ => fail | _ : Rlt (ln v) (ln u) |- _ => fail | _ => "
    "first [assert (Rlt (ln u) (ln v)) by (apply ln_increasing; timeout 2 lra) "
    "| assert (Rle (ln u) (ln v)) by (destruct (Req_dec u v) as [E|E]; "
    "[rewrite E; right; reflexivity | left; apply ln_increasing; timeout 2 lra])] end end end."
)
_NONZERO_FROM_SIGN = (
    "repeat match goal with "
    "| H : Rlt 0%R ?t |- _ => lazymatch goal with _ : t <> 0%R |- _ => fail | _ => "
    "assert (t <> 0%R) by (apply Rgt_not_eq; exact H) end "
    "| H : Rlt ?t 0%R |- _ => lazymatch goal with _ : t <> 0%R |- _ => fail | _ => "
    "assert (t <> 0%R) by (apply Rlt_not_eq; exact H) end end."
)
# A goal `a * b = 512` without logarithms, where the hypotheses are about logarithms: compare the logarithms.
_LN_OF_GOAL = (
    "try match goal with |- @eq R ?a ?b => lazymatch a with context [ln] => fail | _ => "
    "lazymatch b with context [ln] => fail | _ => match goal with _ : context [ln _] |- _ => "
    f"apply ln_inv; [{_POSITIVE} | {_POSITIVE} |] end end end end."
)
# Denominators cleared: each equation with an inverse multiplied out (its nonzero side conditions from
# the hypotheses), then the goal's; a goal whose side conditions cannot be shown is left as it was.
_NONZERO_SIDE = (
    "solve [repeat split; first [assumption | (apply Rgt_not_eq; assumption) | timeout 2 lra | (intro; timeout 2 nra)]]"
)
_CLEAR_HYPOTHESIS_DENOMINATORS = (
    "repeat match goal with H : @eq R _ _ |- _ => lazymatch type of H with "
    "| context [Rinv] => idtac | context [Rdiv] => idtac end; "
    f"field_simplify_eq in H; [{_NONZERO_SIDE} | revert H] end; intros."
)
_CLEAR_GOAL_DENOMINATORS = (
    "try match goal with |- @eq R _ _ => "
    "lazymatch goal with |- context [Rinv] => idtac | |- context [Rdiv] => idtac end; "
    f"field_simplify_eq; [|{_NONZERO_SIDE}] end."
)
# An inequality with denominators known positive: both sides multiplied by their product (gathered in
# `DEN`, each inverse hidden by `remember` while it is counted), then `field_simplify` cancels them.
_CLEAR_POSITIVE_DENOMINATORS = (
    "try (lazymatch goal with |- Rle _ _ => idtac | |- Rlt _ _ => idtac end; "
    'let DEN := fresh "DEN" in assert (DEN : Rlt 0%R 1%R) by lra; '
    "repeat match goal with |- context [Rinv ?d] => "
    'let S := fresh "S" in assert (S : Rlt 0%R d) by (' + _POSITIVE + "); "
    "match type of DEN with Rlt 0%R ?P => "
    'let i := fresh "inv" in let E := fresh "E" in let N := fresh "N" in remember (Rinv d) as i eqn:E; '
    "assert (N : Rlt 0%R (P * d)) by (apply Rmult_lt_0_compat; assumption); clear DEN S; rename N into DEN "
    "end end; "
    "repeat match goal with E : ?i = Rinv _ |- _ => subst i end; "
    "match type of DEN with Rlt 0%R ?P => "
    "first [apply (Rmult_le_reg_r P); [exact DEN|] | apply (Rmult_lt_reg_r P); [exact DEN|]] end; "
    f"clear DEN; field_simplify; [|{_NONZERO_SIDE} ..])."
)
# Each square root of the goal squared back and nonnegative, so `psatz`/`nra` can cancel it (`x * sqrt 2 - 1`).
_GOAL_SQRT_FACTS = (
    "repeat match goal with |- context [sqrt ?t] => lazymatch goal with _ : sqrt t * sqrt t = t |- _ => fail "
    "| _ => assert (sqrt t * sqrt t = t) by (apply sqrt_sqrt; timeout 2 lra); pose proof (sqrt_pos t) end end."
)
# `trig-facts`: each `sin t`/`cos t` in sight gets what the arithmetic tactics cannot know: its bounds, `sin t ^ 2 +
# cos t ^ 2 = 1` and, where the hypotheses place `t` in a half period, its sign (`0 < sin t` from `0 < t < PI`, by
# `lra` with `PI`'s bounds `3 < PI < 7 / 2`, added whether or not the statement names `PI`: `0 < x < 1` needs them for
# `sin_gt_0`'s `x < PI`); `sin (2 * t)` and `cos (2 * t)` are first written through `t`'s own.
# Then `sin t` and `cos t` are atoms like any other, and positive denominators are cleared as in
# `positive-denominators` (`(9 * (x ^ 2 * sin x ^ 2) + 4) / (x * sin x)` with `0 < x < PI`).
_PI_FACTS = (
    "try (pose proof PI_RGT_0; pose proof PI_4; pose proof PI2_3_2); "
    "try (assert (PI < 7 / 2) by (let B := fresh in pose proof (PI_ineq 1) as [_ B]; "
    "unfold tg_alt, PI_tg in B; simpl in B; lra))."
)
"""`try`: a header may load `sin` and `cos` (`Rtrigo_def`) without the library that proves `PI`'s bounds. The
strict upper bound comes from the alternating series (`PI / 4 <= 1 - 1/3 + 1/5`): `PI_4` alone is `PI <= 4`,
which leaves a piece `0 <= x < 4` of a piecewise function out of reach at `PI`."""
_DOUBLE_ANGLES = (
    "repeat match goal with "
    "| |- context [sin (2 * ?t)] => rewrite (sin_2a t) | H : context [sin (2 * ?t)] |- _ => rewrite (sin_2a t) in H "
    "| |- context [cos (2 * ?t)] => rewrite (cos_2a_cos t) "
    "| H : context [cos (2 * ?t)] |- _ => rewrite (cos_2a_cos t) in H end."
)
_TRIG_FACT = (
    "lazymatch goal with _ : sin t * sin t + cos t * cos t = 1 |- _ => fail | _ => "
    'let P := fresh "P" in pose proof (sin2_cos2 t) as P; unfold Rsqr in P; '
    "pose proof (SIN_bound t); pose proof (COS_bound t); "
    "try (assert (Rlt 0%R (sin t)) by (apply sin_gt_0; timeout 2 lra)); "
    "try (assert (Rlt (sin t) 0%R) by (apply sin_lt_0; timeout 2 lra)); "
    "try (assert (Rlt 0%R (cos t)) by (apply cos_gt_0; timeout 2 lra)); "
    "try (assert (Rle 0%R (sin t)) by (apply sin_ge_0; timeout 2 lra)); "
    "try (assert (Rle 0%R (cos t)) by (apply cos_ge_0; timeout 2 lra)) end"
)
_TRIG_FACTS = (
    "repeat match goal with "
    + " | ".join(
        f"{where} => {_TRIG_FACT}"
        for where in (
            "|- context [sin ?t]",
            "|- context [cos ?t]",
            "_ : context [sin ?t] |- _",
            "_ : context [cos ?t] |- _",
        )
    )
    + " end."
)
# `exponent-bounds`: a natural number in an exponent (`2 ^ x * 3 ^ y = 1296`) is bounded by comparing its power
# with the statement's largest number (each other power at least 1, every power an opaque atom for `nia`),
# then enumerated; each case's equation is decided by computing `Nat.eqb` (never a large unary number).
EXPONENT_BOUNDS = "<bounds of the variables in exponents>"
"""Placeholder step replaced per problem (`exponent-bounds`, see `exponent_bounds`)."""
EXPONENT_NUMBER_LIMIT = 20_000
"""`exponent-bounds` compares powers with numbers up to this size (written in unary by `nat`)."""
_POWER_AT_LEAST_ONE = (
    "repeat match goal with H : context [Nat.pow ?b ?e] |- _ => "
    "lazymatch goal with _ : Nat.le 1 (Nat.pow b e) |- _ => fail | _ => "
    "assert (Nat.le 1 (Nat.pow b e)) by (apply PeanoNat.Nat.neq_0_lt_0, PeanoNat.Nat.pow_nonzero; lia) end end"
)
_POWERS_OPAQUE = (
    "repeat match goal with H : context [Nat.pow ?b ?e] |- _ => "
    'let u := fresh "u" in set (u := Nat.pow b e) in *; clearbody u end'
)
# Decided in binary integers (`Znat` is loaded by `Lia`; named in full, since headers rarely import `ZArith`).
_DECIDE_EQUATIONS = (
    "all: try match goal with H : @eq nat _ _ |- _ => apply (f_equal BinInt.Z.of_nat) in H; "
    "rewrite ?Znat.Nat2Z.inj_mul, ?Znat.Nat2Z.inj_pow, ?Znat.Nat2Z.inj_add in H; vm_compute in H; discriminate H end."
)

# `power-period`: a power `b ^ n` (variable `n`) under a modulus `m` repeats with the order `p` of `b` mod `m`:
# `n` is written `p * q + r` (`r < p` enumerated), `(b ^ p) ^ q mod m = 1` is proved by induction on `q`, and
# `(b ^ p) ^ q` becomes `m * k + 1`, so each case is linear in `k` (`7 | 2 ^ n + 1` for no `n`).
POWER_PERIOD = "<a power's exponent split by the power's period>"
"""Placeholder step replaced per problem (`power-period`, see `power_period`)."""
PERIOD_LIMIT = 12
"""`power-period` enumerates at most this many residues of the exponent."""
_NEGATED_DIVISIBILITY = "all: try (intros [? ?]; timeout 3 lia)."

# `cancel-real`: a real equation `a = b` from `c <> 0` (a disequality `x <> y` becomes `x - y <> 0`):
# `c * (a - b) = 0` by `nra` from the denominator-free hypotheses, then `c` is cancelled.
_REAL_NONZERO_DIFFERENCES = (
    "repeat match goal with H : ?x <> ?y |- _ => match type of x with R => lazymatch y with 0%R => fail | _ => "
    "assert (x - y <> 0%R) by (intro; apply H; timeout 2 lra); clear H end end end."
)
_CANCEL_REAL_FACTOR = (
    "all: try match goal with H : ?c <> 0%R |- @eq R ?a ?b => "
    'let Z := fresh "Z" in assert (Z : c * (a - b) = 0%R) by (timeout 3 nra); '
    "apply Rmult_integral in Z; destruct Z as [Z|Z]; [exfalso; exact (H Z) | timeout 2 lra] end."
)

# `nat-casts`: a statement about natural numbers seen through `INR` (or `IZR (Z.of_nat _)`) is moved wholly
# into the reals: the goal `a = b`/`a < b`/`a <= b` in `nat` becomes the same between `INR a` and `INR b`, each
# fact between natural numbers is cast likewise, `INR` is pushed through sums, products and powers down to
# variables and numerals, each numeral computed (`INR 575` as `575`, never through `S_INR`), and each variable's
# `INR` is known nonnegative, so the real-number steps (denominators cleared, `lra`/`nra`) see one field.
_INZ_TO_INR = "rewrite <- ?INR_IZR_INZ in *; try unfold gt, ge in *."
_NAT_GOAL_TO_REAL = (
    "try match goal with |- @eq nat _ _ => apply INR_eq | |- Peano.lt _ _ => apply INR_lt "
    "| |- Peano.le _ _ => apply INR_le end."
)
_NAT_FACTS_TO_REAL = (
    "repeat match goal with H : @eq nat _ _ |- _ => apply (f_equal INR) in H "
    "| H : Peano.lt _ _ |- _ => apply lt_INR in H | H : Peano.le _ _ |- _ => apply le_INR in H "
    "| H : not (@eq nat _ _) |- _ => apply not_INR in H end."
)
_PUSH_INR = "rewrite ?plus_INR, ?mult_INR, ?pow_INR in *."
_INR_NUMERAL = (
    "let rec numeral n := lazymatch n with O => idtac | S ?p => numeral p end in numeral n; "
    "let z := eval vm_compute in (BinInt.Z.of_nat n) in "
    "replace (INR n) with (IZR z) in * by (rewrite INR_IZR_INZ; reflexivity)"
)
_INR_NUMERALS = (
    f"repeat match goal with |- context [INR ?n] => {_INR_NUMERAL} | _ : context [INR ?n] |- _ => {_INR_NUMERAL} end; "
    "rewrite ?S_INR in *."
)
_INR_SIGN = "is_var n; lazymatch goal with _ : Rle 0%R (INR n) |- _ => fail | _ => pose proof (pos_INR n) end"
_INR_SIGNS = (
    f"repeat match goal with |- context [INR ?n] => {_INR_SIGN} | _ : context [INR ?n] |- _ => {_INR_SIGN} end."
)

# `gcd-lcm`: facts about `Nat.gcd x y` and `Nat.lcm x y` become arithmetic: `x = a * gcd x y` and
# `y = b * gcd x y` (the gcd divides both), `lcm x y` unfolded to its definition `x * (y / gcd x y)`, the
# known values of the gcds rewritten in, each quotient `(b * g) / g` computed to `b`, and the numbers
# substituted away, so `gcd 6, lcm 126` reads `a * 6 * b = 126`. Every factor of a product equal to a
# positive number is nonzero, which lets `nia` bound a witness for the enumeration `bounded-wide` does.
_GCD_WITNESSES = (
    "repeat match goal with _ : context [Nat.gcd ?x ?y] |- _ => "
    "lazymatch goal with _ : x = _ * Nat.gcd x y |- _ => fail | _ => "
    'let a := fresh "a" in let b := fresh "b" in '
    "destruct (PeanoNat.Nat.gcd_divide_l x y) as [a ?]; destruct (PeanoNat.Nat.gcd_divide_r x y) as [b ?] end end."
)
_GCD_VALUES = "repeat match goal with H : Nat.gcd _ _ = _ |- _ => rewrite H in *; revert H end; intros."
_EXACT_QUOTIENTS = (
    "repeat match goal with "
    "| H : ?y = ?k * ?g |- context [Nat.div ?y ?g] => rewrite H, PeanoNat.Nat.div_mul by lia "
    "| H : ?y = ?k * ?g, H2 : context [Nat.div ?y ?g] |- _ => rewrite H, PeanoNat.Nat.div_mul in H2 by lia end."
)
_NONZERO_NAT = (
    "repeat match goal with x : nat |- _ => lazymatch goal with _ : x <> 0 |- _ => fail | _ => "
    "assert (x <> 0) by (intro; subst x; simpl in *; timeout 1 lia) end end."
)

# `conditional-defs`: a function given by a definition with premises (`forall x, x <> -2 -> f x = 1 / (x + 2)`,
# piecewise `x < 0 -> f x = ...`) is rewritten at each application in the goal, innermost first (`f (f 1)`: the
# outer argument is only a number once the inner one is rewritten), each premise discharged by `lra` at the
# argument; a definition whose premises fail there (the wrong piece) is passed over for the next. At most
# `CONDITIONAL_REWRITES` rewrites, since a definition may mention its own function (`f n = f (f (n + 5))`).
CONDITIONAL_REWRITES = 6
_PREMISE_AT_ARGUMENT = "solve [first [timeout 2 lra | (intro; timeout 2 lra)]]"
_CONDITIONAL_DEFS = (
    f"do {CONDITIONAL_REWRITES} try match goal with "
    "| |- context [?f ?a ?b] => is_var f; lazymatch constr:((a, b)) with context [f] => fail | _ => "
    f"match goal with H : forall _ : _, _ |- _ => rewrite (H a b) by ({_PREMISE_AT_ARGUMENT}) end end "
    "| |- context [?f ?a] => is_var f; lazymatch a with context [f] => fail | _ => "
    f"match goal with H : forall _ : _, _ |- _ => rewrite (H a) by ({_PREMISE_AT_ARGUMENT}) end end end."
)


# `residue-reduce`: a remainder `E mod m` of sums, products and powers is pushed onto its operands, outermost first
# (`(a * b) mod m` becomes `(a mod m * (b mod m)) mod m`, a node whose operands are already remainders left alone,
# so the rewriting stops), each known remainder of a variable (`x mod m = 4`) rewritten in, powers of numbers
# halved as in `power-mod` (its lemma `PW` serves powers of variables too), and every remainder left without a
# variable computed: `x mod 19 = 4 -> ((x + 1) ^ 2 * (y + 5) ^ 3) mod 19 = 13` is then arithmetic on numbers.
def _push_remainder(operation: str, lemma: str) -> str:
    return (
        f"|- context [Nat.modulo ({operation} ?a ?b) ?m] => lazymatch constr:((a, b)) with "
        f"(Nat.modulo _ m, Nat.modulo _ m) => fail | _ => rewrite ({lemma} a b m) by lia end "
    )


_PUSH_REMAINDERS = (
    "repeat match goal with "
    + _push_remainder("Nat.add", "PeanoNat.Nat.add_mod")
    + "| "
    + _push_remainder("Nat.mul", "PeanoNat.Nat.mul_mod")
    + "| |- context [Nat.modulo (Nat.pow ?a ?e) ?m] => "
    "lazymatch a with Nat.modulo _ m => fail | _ => rewrite (PW a e m) by lia end end."
)
_KNOWN_REMAINDERS = (
    "repeat match goal with H : Nat.modulo ?x ?m = ?c |- context [Nat.modulo ?x ?m] => is_var x; rewrite H end."
)

# `closed-binary`: a statement without variables about natural numbers too large for unary arithmetic
# (`(29 ^ 13 + 5 ^ 13) mod 7`, a sum of `11 ^ k` over a list) is moved into binary integers: the goal
# `a = b`/`a < b`/`a <= b` through `Nat2Z.inj*`, `Z.of_nat` pushed through `+ * ^ / mod` and truncated
# subtraction (as `Z.max 0 (a - b)`), then computed by the virtual machine. List operations of the statement
# (`seq`, `map`, `fold_right`, ...) are unfolded first, so their sums are sums of terms.
LIST_UNFOLD = "<list operations of the statement unfolded>"
"""Placeholder step replaced per problem (`closed-binary`): `cbn` of the list functions the statement names."""
LIST_FUNCTIONS = ("seq", "map", "fold_right", "fold_left", "list_sum", "app", "rev")
"""What `closed-binary` unfolds when the statement names it (a name not loaded would fail the whole step)."""
# `binary-numerals`: Coq reads a natural numeral from `LARGE_NAT_NUMERAL` on as `Nat.of_num_uint` of its digits
# (a unary number that large would overflow the stack), which `lia` and `nia` take for an unknown. Each such
# numeral of the statement gets an equation giving its value in small numerals (`39500 = 39 * 1000 + 500`),
# shown by computing `Nat.eqb` in the virtual machine (no unary number ever appears in a goal or proof term),
# so the arithmetic tactics know the number; up to `BINARY_NUMERAL_LIMIT`, as the machine still builds it once.
LARGE_NAT_NUMERAL = 5000
"""Coq's threshold (`abstract-large-number`): natural numerals from here on are kept as their digits."""
BINARY_NUMERAL_LIMIT = 2_000_000
"""The largest numeral `binary-numerals` gives a value for (its unary form is built once, in the machine)."""
BINARY_NUMERALS = "<large natural numerals given their value>"
"""Placeholder step replaced per problem (`binary-numerals`, see `binary_numerals`)."""

# `map-defs`: a function given for every argument by a hypothesis (`forall n, v n = 2 * n - 1`) but used unapplied,
# as a list's map or a sum's terms (`map v (seq 1 100)`, `sum_f_R0 u 9`), which `rewrite` cannot reach: the map or
# sum is rewritten term by term (`map_ext_in`, `sum_eq`; a premise of the hypothesis, such as `n > 0`, shown by
# `lia` from the index's range), and what is left, without the function, computed.
_MAP_BY_RULE = (
    "erewrite (map_ext_in f _ l) by (let y := fresh in let I := fresh in intros y I; "
    "try apply in_seq in I; rewrite H by lia; reflexivity)"
)
_MAP_DEFS = (
    f"repeat match goal with H : forall x, ?f x = _ |- context [map ?f ?l] => {_MAP_BY_RULE} "
    f"| H : forall x, _ -> ?f x = _ |- context [map ?f ?l] => {_MAP_BY_RULE} end."
)
_SUM_BY_RULE = "erewrite (sum_eq f _ n) by (let y := fresh in intros y ?; rewrite H by lia; reflexivity)"
_SUM_DEFS = (
    f"repeat match goal with H : forall x, ?f x = _ |- context [sum_f_R0 ?f ?n] => {_SUM_BY_RULE} "
    f"| H : forall x, _ -> ?f x = _ |- context [sum_f_R0 ?f ?n] => {_SUM_BY_RULE} end."
)
ROOT_FACTS = "<sum and product of two roots of a quadratic>"
"""Placeholder step replaced per problem (`quadratic-roots`, see `_quadratic_roots`)."""
RECURRENCE_VALUES = "<terms of a recurrence computed>"
"""Placeholder step replaced per problem (`recurrence-values`, see `_recurrence_values`)."""

_NAT_GOAL_TO_Z = "first [apply Znat.Nat2Z.inj | apply Znat.Nat2Z.inj_lt | apply Znat.Nat2Z.inj_le]."
_PUSH_OF_NAT = (
    "repeat first [rewrite Znat.Nat2Z.inj_mod | rewrite Znat.Nat2Z.inj_div | rewrite Znat.Nat2Z.inj_add "
    "| rewrite Znat.Nat2Z.inj_mul | rewrite Znat.Nat2Z.inj_pow | rewrite Znat.Nat2Z.inj_sub_max]."
)

# `sqrt-values`: square roots of numbers computed. A numeral with a square factor is written `k * sqrt m`
# (`sqrt 80` as `4 * sqrt 5`, see `sqrt_numerals`), a root of a perfect square found among `0 .. SQRT_VALUES`
# by `sqrt_lem_1` (`sqrt t = k` from `k * k = t`, by `lra`, so `t` may be any closed expression: `sqrt (2 * 8 - 7)`,
# or `sqrt 4` inside another root, which is then computed in turn); the roots left are known positive with
# their squares, a goal `sqrt X = Y` is squared (`X = Y * Y`, both sides shown nonnegative), and denominators
# are cleared, so `field`/`nra` see a polynomial in the remaining roots.
SQRT_VALUES = 40
"""`sqrt-values` tries the roots 0 .. SQRT_VALUES of a closed radicand."""
SQRT_NUMERALS = "<square factors of the numerals under square roots taken out>"
"""Placeholder step replaced per problem (`sqrt-values`, see `sqrt_numerals`)."""
_SQRT_VALUE = " | ".join(
    f"assert (E : sqrt t = {value}) by (apply sqrt_lem_1; [timeout 1 lra | timeout 1 lra | timeout 1 lra])"
    for value in range(SQRT_VALUES + 1)
)
_SQRT_VALUES = (
    'repeat match goal with |- context [sqrt ?t] => let E := fresh "E" in first ['
    + _SQRT_VALUE
    + ']; rewrite E in *; clear E | _ : context [sqrt ?t] |- _ => let E := fresh "E" in first ['
    + _SQRT_VALUE
    + "]; rewrite E in *; clear E end."
)
_SQRT_FACT = (
    "lazymatch goal with _ : Rlt 0%R (sqrt t) |- _ => fail | _ => "
    "assert (sqrt t * sqrt t = t) by (apply sqrt_sqrt; timeout 2 lra); "
    "assert (Rlt 0%R (sqrt t)) by (apply sqrt_lt_R0; timeout 2 lra) end"
)
_SQRT_POSITIVE_FACTS = (
    f"repeat match goal with |- context [sqrt ?t] => {_SQRT_FACT} | _ : context [sqrt ?t] |- _ => {_SQRT_FACT} end."
)
_NONNEGATIVE = (
    "solve [repeat first [assumption | apply Rmult_le_pos | apply Rplus_le_le_0_compat "
    "| (left; apply Rinv_0_lt_compat) | apply sqrt_pos | (left; assumption) | timeout 2 lra]]"
)
_SQUARE_ROOT_GOAL = (
    f"try match goal with |- sqrt _ = _ => apply sqrt_lem_1; [try {_NONNEGATIVE} | try {_NONNEGATIVE} |] "
    f"| |- _ = sqrt _ => symmetry; apply sqrt_lem_1; [try {_NONNEGATIVE} | try {_NONNEGATIVE} |] end."
)

# `solve-roots`: real unknowns solved one at a time, as a person would before substituting: each variable that
# `nra` shows equal to a small number (`y ^ 3 = 1` with `0 < y`), then each that `nra` shows equal to a square root
# of the statement (`x ^ 2 = 2` with `0 < x` gives `x = sqrt 2`, from `sqrt 2 * sqrt 2 = 2`), is substituted.
_SMALL_VALUE = " | ".join(f"assert (x = {value}) by (timeout 2 nra)" for value in ("0", "1", "(-1)", "2"))
_SOLVE_SMALL = (
    "repeat match goal with x : R |- _ => lazymatch goal with _ : x = _ |- _ => fail | _ : _ = x |- _ => fail "
    f"| _ => first [{_SMALL_VALUE}] end end."
)
_SOLVE_ROOTS = (
    "repeat match goal with x : R, _ : context [sqrt ?t] |- _ => "
    "lazymatch goal with _ : x = _ |- _ => fail | _ : _ = x |- _ => fail | _ => "
    "first [assert (x = sqrt t) by (timeout 2 nra) | assert (x = - sqrt t) by (timeout 2 nra)] end end."
)

# `floor-values`: integer parts of real numbers computed. Coquelicot's `floor t` and the standard `Int_part t` are
# written through `up t` (`floor t = up t - 1`, from `floor_ex`'s bounds and `tech_up`), each square root of a
# numeral bounded between consecutive integers (`5 <= sqrt 27 < 6`, see `sqrt_bounds`), and each `up t` found among
# `UP_VALUES` by `tech_up` (`t < k <= t + 1`, by `lra`), so the goal is integer arithmetic for `lia`.
UP_VALUES = range(-20, 41)
"""The integers `floor-values` tries for each `up t`."""
FLOOR_TO_UP = "<Coquelicot's floor written through up>"
"""Placeholder step replaced per problem (`floor-values`): only under a header loading Coquelicot's `floor`."""
SQRT_BOUNDS = "<square roots of numerals bounded by integers>"
"""Placeholder step replaced per problem (`floor-values`, see `sqrt_bounds`)."""
_UP_VALUE = (
    "lazymatch goal with _ : up t = _ |- _ => fail | _ => first ["
    + " | ".join(
        f"assert (up t = {value}%Z) by (symmetry; apply tech_up; rewrite ?plus_IZR, ?minus_IZR, ?opp_IZR; "
        "simpl IZR; [timeout 1 lra | timeout 1 lra])"
        for value in UP_VALUES
    )
    + "] end"
)
_UP_VALUES = f"repeat match goal with |- context [up ?t] => {_UP_VALUE} | _ : context [up ?t] |- _ => {_UP_VALUE} end."
_FLOOR_TO_UP = (
    "repeat match goal with |- context [floor ?t] => lazymatch goal with _ : floor t = _ |- _ => fail | _ => "
    'let F := fresh "F" in assert (F : (floor t + 1 = up t)%Z) by (apply tech_up; unfold floor; '
    "destruct (floor_ex t) as [? ?]; simpl; rewrite plus_IZR; lra); "
    "assert (floor t = up t - 1)%Z by lia; clear F end end."
)

# `induction-from`: a statement about every natural number from a bound on (`4 <= n -> n ^ 2 <= fact n`,
# `n > 0 -> ...`) by induction on the proof of the bound (`le_ind`): the base case is the bound itself, and the step
# keeps `k <= m` next to the hypothesis for `m`, which a plain induction on `n` loses (its hypothesis would need the
# bound at `m`, false at the start). `lt`, `gt` and `ge` are unfolded first, so `n > 3` reads `4 <= n`.
_INDUCTION_ON_BOUND = "match goal with H : Peano.le ?k ?n |- _ => is_var n; induction H end."

TARGETED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bounded-cases", ("intros.", DESTRUCT_HYPS, "subst.", _BOUNDED_CASES, _CLOSE_CASES)),
    ("bounded-wide", ("intros.", DESTRUCT_HYPS, "subst.", _WIDE_CASES, _CLOSE_WIDE)),
    ("bounded-cases-z", ("intros.", DESTRUCT_HYPS, "subst.", _Z_TO_NAT, _BOUNDED_CASES, _CLOSE_CASES)),
    ("ranged-cases-z", ("intros.", DESTRUCT_HYPS, _RANGED_CASES_Z, _CLOSE_CASES, COMPOSITE_PRIMES)),
    ("power-roots", ("intros.", DESTRUCT_HYPS, POWER_ROOTS, HOLE)),
    ("witnesses", ("intros.", DESTRUCT_HYPS, WITNESSES)),
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
            "repeat rewrite PeanoNat.Nat.pow_2_r.",
            "try rewrite PeanoNat.Nat.mul_mod by lia.",
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
    (
        "residue-split",
        (
            "intros.",
            DESTRUCT_HYPS,
            _TO_MOD_NAT,
            _SUBST_RESIDUES_NAT,
            _SPLIT_RESIDUE_NAT,
            _RESIDUE_ENUMERATE,
            _CLOSE_RESIDUES_NAT,
        ),
    ),
    (
        "residue-split-z",
        (
            "intros.",
            DESTRUCT_HYPS,
            _TO_MOD_Z,
            _SUBST_RESIDUES_Z,
            _SPLIT_RESIDUE_Z,
            _RESIDUE_ENUMERATE,
            _CLOSE_RESIDUES_Z,
        ),
    ),
    (
        "instantiate-real",
        (
            "intros.",
            DESTRUCT_HYPS,
            _INSTANTIATE_REAL,
            _REAL_PREMISES,
            _REWRITE_REAL_DEFS,
            _CONJUNCTS_IN_ORDER,
            _CLOSE_REAL_EQUATIONS,
        ),
    ),
    ("induction-mod", _induction_mod(keep_premises=False)),
    ("induction-mod-keep", _induction_mod(keep_premises=True)),
    (
        "complex-parts",
        (
            "intros.",
            DESTRUCT_HYPS,
            "subst.",
            _C_EQUATION_PARTS,
            _C_VARIABLE_PARTS,
            _SPLIT_CONJUNCTIONS,
            _C_GOAL_PARTS,
            _C_UNFOLD,
            _CLOSE_PARTS,
        ),
    ),
    (
        "cancel-factor",
        (
            "intros.",
            DESTRUCT_HYPS,
            _CANCEL_FACTOR,
            _C_EQUATION_PARTS,
            _C_VARIABLE_PARTS,
            _C_GOAL_PARTS,
            _C_UNFOLD,
            _CLOSE_PARTS,
        ),
    ),
    (
        "induction-recurrence",
        (
            "intros.",
            _INDUCTION_ON_INDEX,
            _RECURRENCE_SUCC,
            _RECURRENCE_PLUS_ONE,
            _REWRITE_IH,
            _POWER_SPLIT,
            _POWER_BELOW,
            _CLOSE_RECURRENCE,
        ),
    ),
    (
        "power-mod",
        (
            "intros.",
            _REVERT_POWER_MODS,
            _POWER_MOD_BASE,
            _POWER_MOD_HALVE,
            "try rewrite PeanoNat.Nat.add_mod by discriminate.",
            _POWER_MOD_REDUCE,
            "intros.",
            _COMPUTE_REMAINDERS,
            HOLE,
        ),
    ),
    (
        "least-bound",
        (
            "intros.",
            UNFOLD_LOCAL_OPTIONAL,
            "repeat match goal with |- _ /\\ _ => split end.",
            "all: intros.",
            "all: " + DESTRUCT_HYPS,
            _LEAST_BOUND,
        ),
    ),
    (
        "power-mod-z",
        (
            "intros.",
            _REVERT_POWER_MODS_Z,
            _POWER_MOD_BASE_Z,
            _POWER_MOD_HALVE_Z,
            "try rewrite Z.add_mod by discriminate.",
            _POWER_MOD_REDUCE_Z,
            "intros.",
            _COMPUTE_REMAINDERS_Z,
            HOLE,
        ),
    ),
    (
        "residue-reduce",
        (
            "intros.",
            DESTRUCT_HYPS,
            _POWER_MOD_BASE,
            _POWER_MOD_HALVE,
            _PUSH_REMAINDERS,
            _KNOWN_REMAINDERS,
            _POWER_MOD_REDUCE,
            _COMPUTE_REMAINDERS,
            HOLE,
        ),
    ),
    ("closed-binary", ("intros.", LIST_UNFOLD, _NAT_GOAL_TO_Z, _PUSH_OF_NAT, "vm_compute.", HOLE)),
    ("closed-compute", ("vm_compute.", "reflexivity.")),
    ("binary-numerals", ("intros.", DESTRUCT_HYPS, BINARY_NUMERALS, HOLE)),
    (
        "binary-numerals-mod",
        ("intros.", DESTRUCT_HYPS, BINARY_NUMERALS, "all: " + EACH_REMAINDER_NAT + "; try (timeout 3 nia)."),
    ),
    (
        "sqrt-values",
        (
            "intros.",
            DESTRUCT_HYPS,
            _REWRITE_REAL_DEFS,
            "try subst.",
            SQRT_NUMERALS,
            _SQRT_VALUES,
            _SQRT_POSITIVE_FACTS,
            _NONZERO_FROM_SIGN,
            _SQUARE_ROOT_GOAL,
            "all: unfold Rdiv in *.",
            "all: " + _CLEAR_GOAL_DENOMINATORS,
            HOLE,
        ),
    ),
    (
        "solve-roots",
        (
            "intros.",
            DESTRUCT_HYPS,
            _SQRT_POSITIVE_FACTS,
            _SOLVE_SMALL,
            "try subst.",
            _SOLVE_ROOTS,
            "try subst.",
            HOLE,
        ),
    ),
    (
        "floor-values",
        (
            "intros.",
            DESTRUCT_HYPS,
            "try unfold Int_part in *.",
            FLOOR_TO_UP,
            SQRT_BOUNDS,
            _UP_VALUES,
            "all: try (timeout 3 lia).",
        ),
    ),
    (
        "induction-from",
        ("intros.", "try unfold gt, ge, lt in *.", _INDUCTION_ON_BOUND, "all: simpl in *.", HOLE),
    ),
    (
        "log-expand",
        (
            "intros.",
            DESTRUCT_HYPS,
            UNFOLD_LOCAL_OPTIONAL,
            _ORDER_FORMS,
            _POSITIVE_VARIABLES,
            _LN_OF_POWER_EQUATIONS,
            _LN_OF_GOAL,
            "unfold Rdiv in *.",
            _LN_EXPAND,
            LN_NUMERALS,
            _LN_EXPAND,
            _LN_SIGNS,
            _LN_ORDER,
            _NONZERO_FROM_SIGN,
            _CLEAR_HYPOTHESIS_DENOMINATORS,
            _CLEAR_GOAL_DENOMINATORS,
            _CLEAR_POSITIVE_DENOMINATORS,
        ),
    ),
    ("map-defs", ("intros.", DESTRUCT_HYPS, _MAP_DEFS, "all: try (vm_compute; reflexivity).")),
    ("sum-defs", ("intros.", DESTRUCT_HYPS, _SUM_DEFS, "all: try (simpl; field).")),
    ("recurrence-values", ("intros.", DESTRUCT_HYPS, RECURRENCE_VALUES, HOLE)),
    (
        "quadratic-roots",
        (
            "intros.",
            DESTRUCT_HYPS,
            _REWRITE_REAL_DEFS,
            ROOT_FACTS,
            DENOMINATORS_NONZERO,
            CLEAR_DENOMINATORS,
            HOLE,
        ),
    ),
    (
        "positive-denominators",
        (
            "intros.",
            DESTRUCT_HYPS,
            _ORDER_FORMS,
            _POSITIVE_VARIABLES,
            "unfold Rdiv in *.",
            _NONZERO_FROM_SIGN,
            _CLEAR_HYPOTHESIS_DENOMINATORS,
            _CLEAR_POSITIVE_DENOMINATORS,
            _GOAL_SQRT_FACTS,
        ),
    ),
    (
        "trig-facts",
        (
            "intros.",
            DESTRUCT_HYPS,
            _ORDER_FORMS,
            _PI_FACTS,
            _DOUBLE_ANGLES,
            _TRIG_FACTS,
            "unfold Rdiv in *.",
            _NONZERO_FROM_SIGN,
            _CLEAR_HYPOTHESIS_DENOMINATORS,
            _CLEAR_POSITIVE_DENOMINATORS,
            _CLEAR_GOAL_DENOMINATORS,
            HOLE,
        ),
    ),
    (
        "exponent-bounds",
        ("intros.", DESTRUCT_HYPS, EXPONENT_BOUNDS, _RESIDUE_ENUMERATE, _DECIDE_EQUATIONS, "all: try lia."),
    ),
    (
        "power-period",
        (
            "intros.",
            POWER_PERIOD,
            _NEGATED_DIVISIBILITY,
            "all: " + _TO_MOD_NAT,
            "all: " + EACH_REMAINDER_NAT + "; try (timeout 3 nia).",
        ),
    ),
    ("conditional-defs", ("intros.", DESTRUCT_HYPS, _PI_FACTS, _CONDITIONAL_DEFS, HOLE)),
    (
        "gcd-lcm",
        (
            "intros.",
            DESTRUCT_HYPS,
            _GCD_WITNESSES,
            "unfold Nat.lcm in *.",
            _GCD_VALUES,
            _EXACT_QUOTIENTS,
            "subst.",
            _NONZERO_NAT,
            "all: try (timeout 3 nia).",
            "all: try (" + _WIDE_CASES.removesuffix(".") + ").",
            _CLOSE_WIDE,
        ),
    ),
    (
        "nat-casts",
        (
            "intros.",
            DESTRUCT_HYPS,
            "subst.",
            _INZ_TO_INR,
            _NAT_GOAL_TO_REAL,
            _NAT_FACTS_TO_REAL,
            _PUSH_INR,
            _INR_NUMERALS,
            _INR_SIGNS,
            _ORDER_FORMS,
            "unfold Rdiv in *.",
            _NONZERO_FROM_SIGN,
            _CLEAR_HYPOTHESIS_DENOMINATORS,
            _CLEAR_GOAL_DENOMINATORS,
            _CLEAR_POSITIVE_DENOMINATORS,
            HOLE,
        ),
    ),
    (
        "cancel-real",
        (
            "intros.",
            DESTRUCT_HYPS,
            _REAL_NONZERO_DIFFERENCES,
            _CLEAR_HYPOTHESIS_DENOMINATORS,
            _CLEAR_GOAL_DENOMINATORS,
            _SPLIT_CONJUNCTIONS,
            _CANCEL_REAL_FACTOR,
        ),
    ),
)

# The library may be named in full (`Require Import Coq.Reals.Reals.`, as 30 miniF2F headers do).
# Each word before the library's is one or more characters: `[\w.]*` let a run of blanks be split in
# exponentially many ways (a header `Require Import` + 30 blanks + `Arith.` held the search's guards for minutes).
_REALS = re.compile(r"\bRequire\s+(?:Import\s+|Export\s+)?(?:[\w.]+\s+)*?(?:\w+\.)*(?:Reals|Rbase|Coquelicot)\b")
_DEFINITION = re.compile(r"^\s*Definition\s+([A-Za-z_][\w']*)", re.MULTILINE)
_NAT_BINDER = re.compile(r"\bnat\b")
_NAT_FORALL = re.compile(r"forall\s*\(?\s*\w+(?:\s+\w+)*\s*:\s*nat\b")
_MOD = re.compile(r"\bmod\b|modulo")
_NUMERAL_RANGE = re.compile(r"-?\d+\s*<=\s*[A-Za-z_][\w']*\s*<=\s*-?\d+")
"""An unknown between two numerals (`4 <= p <= 18`): what `ranged-cases-z` enumerates."""
_PRIME = re.compile(r"\bprime\b")
_MOD_OR_QUOTIENT = re.compile(r"\bmod\b|modulo|\bdiv\b|(?<!\\)/(?!\\)")
"""A remainder or a quotient: what the division identities (`EACH_REMAINDER_NAT`) give `lia` and `nia`."""
_Z = re.compile(r"\bZ\b|Z_scope|ZArith")
_DIVISIBILITY = re.compile(r"\bmod\b|modulo|divide|exists\s*\(?\s*\w+\s*(?::\s*nat\s*)?\)?\s*,[^.]*\*")
_POWER = re.compile(r"\^|\bpow\b")
_LARGE_POWER = re.compile(r"\d\s*\)?\s*\^\s*\(?\s*\d{2,}")
_COMPLEX = re.compile(r"(?::|,|\()\s*C\s*(?:\)|,|\s*->)|\bCi\b|\bC_scope\b")
_NAT_INDEX = re.compile(
    r"^\s*(?:Theorem|Lemma)\s+\S+\s*(?:\(\s*\w+\s*:\s*nat\s*\)|:\s*forall\s*\(?\s*\w+(?:\s+\w+)*\s*:\s*nat\b)",
    re.MULTILINE,
)
_SEQUENCE = re.compile(r"\bnat\s*->\s*(?:nat|Z|R)\b")
_NEXT_TERM = re.compile(r"\w\s*\(\s*(?:S\s+\w+|\w+\s*\+\s*1)\s*\)")
_NUMERAL_POWER = re.compile(r"(?<![\w.])(\d+)\s*\^\s*\(?\s*([A-Za-z_][\w']*)(?![\w'])")
_CONSTANT_POWER = re.compile(r"\d\s*\)?\s*\^\s*\(?\s*\d")
"""A power of numbers (`1000 ^ 5`): the statement's numerals then do not bound its powers."""
_MODULUS = re.compile(r"(?:\bmod|divide)\s+\(?\s*(\d+)\b")
_MULTIPLE = re.compile(r"(?<![\w.^])(\d+)\s*\*\s*[A-Za-z_]\w*\s*\)?\s*(?:$|[.,]|->|/\\\\)", re.MULTILINE)
"""A multiple `m * k` ending an equation (`exists k, 2 ^ n + 1 = 3 * k`): `m` is a modulus."""
_TRIGONOMETRY = re.compile(r"\b(?:sin|cos)\b")
_LOGARITHM = re.compile(r"\b(?:ln|Rpower|exp)\b")
_NUMERAL = re.compile(r"(?<![\w.#])\d+(?![\w#]|\.\d)")
NUMERAL_LIMIT = 10**6
"""`log-expand` factors numerals up to this size (trial division; larger ones are left as they are)."""
_CONDITIONAL_DEFINITION = re.compile(
    r"\(\s*(?:[^\s():]+\s*:\s*)?forall\s[^,]+,[^()]*?(?:<>|<=|>=|<(?![-=>])|(?<![-<])>)[^()]*?->"
    r"\s*[A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)+\s*="
)
"""A hypothesis defining a function under premises (`(h : forall x, x <> 0 -> q x = 6 / x)`)."""
_GCD_FACT = re.compile(r"\b(?:gcd|lcm)\b[^.]*->")
"""A gcd or an lcm in a premise (`Nat.gcd m n = 6 -> ...`): facts `gcd-lcm` turns into arithmetic."""
_NAT_CAST = re.compile(r"\bINR\b|\bIZR\s*\(\s*Z(?:\.of_nat|_of_nat)\b")
"""A natural number cast to the reals (`INR n`, `IZR (Z.of_nat n)`): the shape `nat-casts` moves into the reals."""
_CLOSED_STATEMENT = re.compile(r"^\s*(?:Theorem|Lemma|Example)\s+[\w']+\s*:(?![^.]*(?:\bforall\b|\bexists\b|->))")
"""A statement without binders, premises or quantifiers: a computation (`closed-binary`'s shape)."""
_LARGE_NUMERAL = re.compile(r"(?<![\w.#])\d{4,}|\^")
_FOREIGN_NUMBERS = re.compile(r"\b(?:Z|R|Q|C)\b|Z_scope|R_scope|Q_scope|C_scope|%[ZRQC]\b|\bIZR\b|\bINR\b|\bZ\.")
_OPEN_FOREIGN_SCOPE = re.compile(r"\b(?:Z|R|Q|C)_scope\b")
_NUMBER_TYPES = frozenset({"Z", "R", "Q", "C"})
_GROUP_BINDER = re.compile(r"\(\s*([A-Za-z_][\w' ]*?)\s*:(?!=)")
"""Names bound in a parenthesised group (`(A M C : nat)`, `(h₀ : 0 < n)`): the text before its colon."""
_BARE_BINDER = re.compile(r"\b(?:forall|exists|fun)\s+([A-Za-z_][\w' ]*?)\s*[:,]")
"""Names bound without parentheses (`forall x y : nat,`, `exists k,`)."""
_CLOSED_ROOT = re.compile(r"\bsqrt\s*\(?\s*\d|forall\s+\w+[^,]*,\s*\w+\s+\w+\s*=[^.]*?\bsqrt\b")
"""A root of a number (`sqrt 80`), or a function defined with a root (`f x = x ^ 2 - 4 * sqrt x`) that the goal may
apply to numbers: radicands `sqrt-values` can compute. Roots of variables alone (`sqrt (x * y)`) are not its shape."""
_INTEGER_PART = re.compile(r"\b(?:up|floor|Int_part)\b")
"""An integer part of a real number (`up`, Coquelicot's `floor`, `Int_part`): the shape `floor-values` computes."""
_LOWER_BOUND = re.compile(
    r"(?:\b\d+\s*<=?\s*[A-Za-z_]\w*|\b[A-Za-z_]\w*\s*>=?\s*\d+)(?:\s*\))?(?:\s*%nat)?(?:\s*\))?\s*->"
)
"""A premise bounding a variable from below (`4 <= n ->`, `n > 0 ->`): the shape `induction-from` inducts from.
Each optional `)` or `%nat` carries the blanks before it: three blank runs side by side backtracked cubically."""
_RECURSIVE = re.compile(r"\bfact\b|\^\s*\(?\s*[A-Za-z_]|\bFixpoint\b|\bsum_|\bprod_")
"""Something defined by recursion on a natural number (a factorial, a power with a variable exponent, a sum or a
product, a `Fixpoint` of the header): what an induction unfolds one step at a time."""
_LEAST_GOAL = re.compile(
    r"(?:->|,)[^.]*?(?:\b\d+\s*<=\s*[A-Za-z_]\w*|\b[A-Za-z_]\w*\s*>=\s*\d+)\s*\)?\s*(?:%nat)?\s*\)?\s*\.\s*$"
)
"""A conclusion `k <= x` or `x >= k` after premises (`(30 * x) mod 47 = 42 -> 39 <= x.`): `least-bound`'s shape."""
_IDENTITY = re.compile(r"(?:\(|:|->)\s*\(?\s*forall\s+\w+\s*(?::\s*R\s*)?,")


_FUNCTION_RULE = re.compile(
    r"forall\s*\(?\s*([A-Za-z_][\w']*)\s*(?::\s*\w+\s*)?\)?\s*,\s*(?:[^,]*?->\s*)?([A-Za-z_][\w']*)\s+\1\s*="
)
"""A function given for every argument (`forall n, v n = ...`, maybe under a premise `n > 0 ->`)."""
_LIST_CONSUMER = r"\bmap\s+{name}\b"
_SUM_CONSUMER = r"\bsum_f_R0\s+{name}\b"


def _used_unapplied(problem: ProofProblem, consumer: str) -> bool:
    """Whether a function the statement gives by a rule is passed whole to `consumer` (a map, a sum)."""
    names = {match.group(2) for match in _FUNCTION_RULE.finditer(problem.statement)}
    return any(re.search(consumer.format(name=re.escape(name)), problem.statement) for name in names)


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


def _has_divisibility(problem: ProofProblem) -> bool:
    """A remainder or a divisibility (`Nat.divide`, `exists k, a = m * k`) in the statement."""
    return _DIVISIBILITY.search(problem.statement) is not None


def _has_power_divisibility(problem: ProofProblem) -> bool:
    """A divisibility about a power of a natural number (the shape `induction-mod` proves)."""
    return _has_divisibility(problem) and _has_nat(problem) and _POWER.search(problem.statement) is not None


def _large_power_remainder(problem: ProofProblem) -> bool:
    """A remainder of a power with a constant exponent of two digits or more (`power-mod`'s shape, in either type)."""
    return _MOD.search(problem.statement) is not None and _LARGE_POWER.search(problem.statement) is not None


def _has_large_power_mod(problem: ProofProblem) -> bool:
    """`power-mod`'s shape in `nat` (no integers in sight)."""
    return _large_power_remainder(problem) and _Z.search(problem.statement + problem.header) is None


def _has_large_power_mod_z(problem: ProofProblem) -> bool:
    """`power-mod-z`'s shape: integers in sight."""
    return _large_power_remainder(problem) and _Z.search(problem.statement + problem.header) is not None


def _uses_complex(problem: ProofProblem) -> bool:
    """Coquelicot's complex numbers in sight (the shape `complex-parts` and `cancel-factor` take apart)."""
    return "Coquelicot" in problem.header and _COMPLEX.search(problem.statement + problem.header) is not None


def _uses_logarithms(problem: ProofProblem) -> bool:
    return _uses_reals(problem) and _LOGARITHM.search(problem.statement + problem.header) is not None


def _real_cancellation(problem: ProofProblem) -> bool:
    """Reals with a disequality or a division: a factor that may be cancelled, or denominators to clear."""
    return _uses_reals(problem) and ("<>" in problem.statement or "/" in problem.statement)


def _foreign_numbers(problem: ProofProblem) -> bool:
    """Integers, rationals, reals or complex numbers in the statement, or their scope opened by the header (where
    `mod` and numerals are no longer `nat`'s); a header that merely loads `ZArith` or the reals does not count.
    A variable the statement binds under a type's name (`forall (A M C : nat)`) is the variable, not the type."""
    statement = problem.statement
    for name in _bound_names(statement) & _NUMBER_TYPES:
        statement = re.sub(rf"(?<![\w.']){name}(?![\w'])", "_", statement)
    return _FOREIGN_NUMBERS.search(statement) is not None or _OPEN_FOREIGN_SCOPE.search(problem.header) is not None


def _bound_names(statement: str) -> set[str]:
    """The names the statement binds: in parenthesised groups (`(x y : R)`) and after `forall`, `exists`, `fun`."""
    names: set[str] = set()
    for match in (*_GROUP_BINDER.finditer(statement), *_BARE_BINDER.finditer(statement)):
        names.update(match.group(1).split())
    return names


def _nat_remainder(problem: ProofProblem) -> bool:
    """A remainder of a power in `nat` (no integers or reals in sight): the shape `residue-reduce` pushes onto
    operands. Without a power, `lia` does linear residues better from the division identities (`mod-facts`)."""
    return (
        _MOD.search(problem.statement) is not None
        and _POWER.search(problem.statement) is not None
        and not _foreign_numbers(problem)
    )


def _existential_conclusion(problem: ProofProblem) -> bool:
    """The statement concludes with an existence claim (`exists m, ...`; not `exists!`, whose uniqueness half
    no witness settles)."""
    try:
        _, _, conclusion = premises_and_conclusion(problem)
    except Exception:  # noqa: BLE001 - a statement the reader cannot split has no conclusion to offer witnesses to
        return False
    return re.search(r"\bexists\b(?!!)", conclusion) is not None


def _closed_nat_computation(problem: ProofProblem) -> bool:
    """A statement without variables, in `nat`, with a number or a power too large for unary arithmetic."""
    return (
        _CLOSED_STATEMENT.search(problem.statement) is not None
        and _LARGE_NUMERAL.search(problem.statement) is not None
        and not _foreign_numbers(problem)
    )


def _large_nat_numerals(problem: ProofProblem) -> list[int]:
    """The statement's numerals that Coq keeps as digits and `binary-numerals` can give a value, where natural
    numbers are in sight: with integers or reals beside them (`(Z.of_nat x - Z.of_nat y = 14238)%Z`) each numeral
    still gets its `nat` value, and those that are not `nat`'s leave the fact unused."""
    if _foreign_numbers(problem) and not _has_nat(problem):
        return []
    numbers = {int(text) for text in _NUMERAL.findall(problem.statement)}
    return sorted(number for number in numbers if LARGE_NAT_NUMERAL <= number <= BINARY_NUMERAL_LIMIT)


GUARDS: dict[str, Callable[[ProofProblem], bool]] = {
    "map-defs": lambda problem: _used_unapplied(problem, _LIST_CONSUMER),
    "sum-defs": lambda problem: _uses_reals(problem) and _used_unapplied(problem, _SUM_CONSUMER),
    "quadratic-roots": lambda problem: _uses_reals(problem) and bool(quadratic_root_facts(problem)),
    "recurrence-values": lambda problem: recurrence(problem) is not None,
    "induction-from": lambda problem: (
        not _uses_reals(problem)
        and _NAT_INDEX.search(problem.statement) is not None
        and _LOWER_BOUND.search(problem.statement) is not None
        and _RECURSIVE.search(problem.statement + problem.header) is not None
    ),
    "floor-values": lambda problem: _uses_reals(problem) and _INTEGER_PART.search(problem.statement) is not None,
    "sqrt-values": lambda problem: _uses_reals(problem) and _CLOSED_ROOT.search(problem.statement) is not None,
    "solve-roots": lambda problem: _uses_reals(problem) and "sqrt" in problem.statement,
    "residue-reduce": _nat_remainder,
    "closed-binary": _closed_nat_computation,
    "closed-compute": lambda problem: (
        _CLOSED_STATEMENT.search(problem.statement) is not None
        and not _foreign_numbers(problem)
        and not _uses_reals(problem)
        and not _closed_nat_computation(problem)
    ),
    "binary-numerals": lambda problem: bool(_large_nat_numerals(problem)),
    "binary-numerals-mod": lambda problem: (
        bool(_large_nat_numerals(problem)) and _MOD_OR_QUOTIENT.search(problem.statement) is not None
    ),
    "conditional-defs": lambda problem: (
        _uses_reals(problem) and _CONDITIONAL_DEFINITION.search(problem.statement) is not None
    ),
    "gcd-lcm": lambda problem: _has_nat(problem) and _GCD_FACT.search(problem.statement) is not None,
    "nat-casts": lambda problem: _uses_reals(problem) and _NAT_CAST.search(problem.statement) is not None,
    "log-expand": _uses_logarithms,
    "cancel-real": _real_cancellation,
    "power-period": lambda problem: (
        _has_power_divisibility(problem) and _NUMERAL_POWER.search(problem.statement) is not None
    ),
    "exponent-bounds": lambda problem: (
        _has_nat(problem)
        and _NUMERAL_POWER.search(problem.statement) is not None
        and _CONSTANT_POWER.search(problem.statement) is None
    ),
    "positive-denominators": lambda problem: _uses_reals(problem) and "/" in problem.statement,
    "trig-facts": lambda problem: _uses_reals(problem) and _TRIGONOMETRY.search(problem.statement) is not None,
    "bounded-cases": _has_nat,
    "bounded-wide": _has_nat,
    "bounded-cases-z": lambda problem: _Z.search(problem.statement) is not None,
    "ranged-cases-z": lambda problem: (
        _Z.search(problem.statement) is not None and _NUMERAL_RANGE.search(problem.statement) is not None
    ),
    "power-roots": lambda problem: _has_nat(problem) and power_roots(problem) is not None,
    "witnesses": lambda problem: (
        _existential_conclusion(problem) and (_has_nat(problem) or _Z.search(problem.statement) is not None)
    ),
    "residue-cases-z": lambda problem: (
        _MOD.search(problem.statement) is not None and _Z.search(problem.statement + problem.header) is not None
    ),
    "residue-cases-nat": lambda problem: (
        _MOD.search(problem.statement) is not None and _NAT_BINDER.search(problem.statement) is not None
    ),
    "instantiate-nat": _has_nat_forall,
    "residue-split": lambda problem: _has_divisibility(problem) and _has_nat(problem),
    "residue-split-z": lambda problem: _has_divisibility(problem) and _Z.search(problem.statement) is not None,
    "instantiate-real": lambda problem: _uses_reals(problem) and _IDENTITY.search(problem.statement) is not None,
    "induction-mod": _has_power_divisibility,
    "induction-mod-keep": _has_power_divisibility,
    "power-mod": _has_large_power_mod,
    "power-mod-z": _has_large_power_mod_z,
    "least-bound": lambda problem: (
        not _uses_reals(problem)
        and _Z.search(problem.statement + problem.header) is None
        and _LEAST_GOAL.search(problem.statement) is not None
    ),
    "induction-recurrence": lambda problem: (
        _NAT_INDEX.search(problem.statement) is not None
        and _SEQUENCE.search(problem.statement) is not None
        and _NEXT_TERM.search(problem.statement) is not None
    ),
    "complex-parts": _uses_complex,
    "cancel-factor": lambda problem: _uses_complex(problem) and "<>" in problem.statement,
    "unfold-local": lambda problem: bool(local_definitions(problem)),
    "ring-simplify-hyps": _uses_reals,
    "pair-squares": _uses_reals,
    "sign-products": _uses_reals,
    "square-equations": lambda problem: _uses_reals(problem) and "sqrt" in problem.statement,
}


def applies(name: str, problem: ProofProblem | None) -> bool:
    """Whether skeleton `name` is worth a try on `problem` (always, for an unguarded one or no problem)."""
    guard = GUARDS.get(name)
    return problem is None or problem.prover != "coq" or guard is None or guard(problem)


def ln_numerals(problem: ProofProblem) -> str:
    """`log-expand`'s step rewriting `ln n` for each composite numeral `n` of the statement as a sum of
    logarithms of its prime factors (`ln 512 = 9 * ln 2`), so logarithms to different bases share atoms."""
    replacements = []
    for number in sorted({int(text) for text in _NUMERAL.findall(problem.statement)}):
        factors = _prime_factors(number) if 4 <= number <= NUMERAL_LIMIT else {}
        if sum(factors.values()) < 2:
            continue
        total = " + ".join(f"INR {exponent} * ln {prime}" for prime, exponent in sorted(factors.items()))
        proof = (
            "rewrite <- !ln_pow by lra; "
            + ("rewrite <- !ln_mult by (apply pow_lt; lra); " if len(factors) > 1 else "")
            + "f_equal; simpl; ring"
        )
        replacements.append(f"try (replace (ln {number}) with ({total})%R in * by ({proof}))")
    return "; ".join(replacements) + "." if replacements else "idtac."


_SQRT_NUMERAL = re.compile(r"\bsqrt\s*\(?\s*(\d+)(?![\w.])")


def sqrt_numerals(problem: ProofProblem) -> str:
    """`sqrt-values`' step writing `sqrt n`, for each numeral `n = k * k * m` under a root of the statement with
    `k > 1` and `m > 1`, as `k * sqrt m` (`sqrt 845` as `13 * sqrt 5`), so roots of different numbers share atoms."""
    replacements = []
    for text in dict.fromkeys(_SQRT_NUMERAL.findall(problem.statement)):
        number = int(text)
        if number > NUMERAL_LIMIT:
            continue
        factor, rest = 1, number
        for prime, exponent in _prime_factors(number).items():
            factor *= prime ** (exponent // 2)
            rest //= prime ** (exponent // 2 * 2)
        if factor > 1 and rest > 1:
            replacements.append(
                f"try (assert (E : sqrt {number} = {factor} * sqrt {rest}) by ("
                f"pose proof (sqrt_sqrt {rest} ltac:(lra)); pose proof (sqrt_pos {rest}); "
                "apply sqrt_lem_1; [lra | nra | nra]); rewrite E in *; clear E)"
            )
    return "; ".join(replacements) + "." if replacements else "idtac."


def sqrt_bounds(problem: ProofProblem) -> str:
    """`floor-values`' step bounding `sqrt n`, for each numeral `n` under a root of the statement that is no perfect
    square, between consecutive integers (`5 <= sqrt 27 < 6`), each side by monotony of the root."""
    bounds = []
    for text in dict.fromkeys(_SQRT_NUMERAL.findall(problem.statement)):
        number = int(text)
        root = math.isqrt(number)
        if root * root == number or number > NUMERAL_LIMIT:
            continue
        bounds.append(
            f"assert ({root} <= sqrt {number} < {root + 1}) by (split; "
            f"[rewrite <- (sqrt_square {root}) by lra; apply sqrt_le_1_alt; lra "
            f"| rewrite <- (sqrt_square {root + 1}) by lra; apply sqrt_lt_1_alt; lra])"
        )
    return "; ".join(bounds) + "." if bounds else "idtac."


def binary_numerals(problem: ProofProblem) -> str:
    """`binary-numerals`' step: `N = q * 1000 + r` for each large natural numeral `N` of the statement (`q`, `r`
    below Coq's threshold, so read as ordinary numerals), by `Nat.eqb` computed in the virtual machine."""
    facts = [
        f"assert ({number} = {number // 1000} * 1000 + {number % 1000})%nat by "
        "(apply PeanoNat.Nat.eqb_eq; vm_compute; reflexivity)"
        for number in _large_nat_numerals(problem)
    ]
    return "; ".join(facts) + "." if facts else "idtac."


def list_unfold(problem: ProofProblem) -> str:
    """`closed-binary`'s step unfolding the list functions the statement names, as it names them (`List.seq`)."""
    names = []
    for name in LIST_FUNCTIONS:
        names.extend(re.findall(rf"(?<![\w.])(?:\w+\.)*{name}\b", problem.statement))
    return f"cbn [{' '.join(dict.fromkeys(names))}]." if names else "idtac."


def exponent_bounds(problem: ProofProblem) -> str:
    """`exponent-bounds`' step: for each `b ^ x` of the statement (`b` a number, `x` a variable), `x < k` with
    `b ^ k` above the statement's largest number, shown by `nia` with the powers as opaque atoms."""
    numbers = [int(text) for text in _NUMERAL.findall(problem.statement)]
    largest = max(numbers, default=0)
    if not 0 < largest <= EXPONENT_NUMBER_LIMIT:
        return "idtac."
    bounds = []
    for base_text, variable in dict.fromkeys(_NUMERAL_POWER.findall(problem.statement)):
        base = int(base_text)
        if base < 2:
            continue
        bound = 1
        while base**bound <= largest:
            bound += 1
        if bound > RESIDUE_BOUND + 1:
            continue
        bounds.append(
            f"try (assert ({variable} < {bound})%nat by ("
            f"destruct (PeanoNat.Nat.lt_ge_cases {variable} {bound}) as [|HB]; [assumption|]; exfalso; "
            f"pose proof (PeanoNat.Nat.pow_le_mono_r {base} {bound} {variable} ltac:(lia) HB); "
            f"{_POWER_AT_LEAST_ONE}; change ({base} ^ {bound})%nat with {base**bound}%nat in *; "
            f"{_POWERS_OPAQUE}; timeout 3 nia))"
        )
    return "; ".join(bounds) + "." if bounds else "idtac."


def power_period(problem: ProofProblem) -> str | None:
    """`power-period`'s step for the first power `b ^ n` of the statement with a modulus `m` of it (a numeral
    after `mod`, in `Nat.divide m`, or multiplying an existential) prime to `b`, of order at most `PERIOD_LIMIT`."""
    moduli = [int(text) for text in _MODULUS.findall(problem.statement) + _MULTIPLE.findall(problem.statement)]
    for base_text, variable in dict.fromkeys(_NUMERAL_POWER.findall(problem.statement)):
        base = int(base_text)
        for modulus in dict.fromkeys(moduli):
            period = _order(base, modulus)
            if period is None:
                continue
            cases = _case_pattern(period - 1, "?")
            return (
                f"assert (PP : forall q : nat, (Nat.pow (Nat.pow {base} {period}) q) mod {modulus} = 1) by "
                "(intro q; induction q as [|q IH]; [reflexivity|]; "
                "rewrite PeanoNat.Nat.pow_succ_r', PeanoNat.Nat.mul_mod, IH by discriminate; reflexivity); "
                f"assert (exists q r, {variable} = {period} * q + r /\\ r < {period}) as [q [r [-> B]]] by "
                f"(exists (Nat.div {variable} {period}), (Nat.modulo {variable} {period}); "
                "split; [apply PeanoNat.Nat.div_mod_eq | apply PeanoNat.Nat.mod_upper_bound; lia]); "
                "rewrite PeanoNat.Nat.pow_add_r, PeanoNat.Nat.pow_mul_r in *; specialize (PP q); "
                f"set (X := Nat.pow (Nat.pow {base} {period}) q) in *; clearbody X; "
                f"pose proof (PeanoNat.Nat.div_mod_eq X {modulus}) as E; rewrite PP in E; "
                f"set (k := Nat.div X {modulus}) in *; clearbody k; subst X; "
                f"destruct r as {cases}; try (exfalso; lia); simpl Nat.pow in *."
            )
    return None


def _order(base: int, modulus: int) -> int | None:
    """The multiplicative order of `base` modulo `modulus` when they are coprime and it is at most `PERIOD_LIMIT`."""
    if modulus < 2 or math.gcd(base, modulus) != 1:
        return None
    value = base % modulus
    for period in range(1, PERIOD_LIMIT + 1):
        if value == 1 % modulus:
            return period
        value = value * base % modulus
    return None


def _prime_factors(number: int) -> dict[int, int]:
    factors: dict[int, int] = {}
    divisor = 2
    while divisor * divisor <= number:
        while number % divisor == 0:
            factors[divisor] = factors.get(divisor, 0) + 1
            number //= divisor
        divisor += 1
    if number > 1:
        factors[number] = factors.get(number, 0) + 1
    return factors


_FILLED: dict[str, Callable[[ProofProblem], str | None]] = {
    LN_NUMERALS: ln_numerals,
    POWER_PERIOD: power_period,
    SQRT_BOUNDS: sqrt_bounds,
    SQRT_NUMERALS: sqrt_numerals,
    LIST_UNFOLD: list_unfold,
    BINARY_NUMERALS: binary_numerals,
    ROOT_FACTS: quadratic_root_facts,
    RECURRENCE_VALUES: recurrence_values,
    EXPONENT_BOUNDS: exponent_bounds,
    POWER_ROOTS: power_roots,
    WITNESSES: witnesses,
    COMPOSITE_PRIMES: lambda problem: (
        _COMPOSITE_PRIMES
        if _PRIME.search(problem.statement) is not None and "Znumtheory" in problem.header
        else "idtac."
    ),
}
"""Placeholders filled from the problem's text; None from the filler means the skeleton does not apply."""


def specialise(steps: tuple[str, ...], problem: ProofProblem | None) -> tuple[str, ...] | None:
    """The steps with per-problem placeholders filled in, or None when they cannot be (no problem given)."""
    names = local_definitions(problem) if problem is not None else ()
    unfold = "; ".join(f"try unfold {name} in *" for name in names) + "."
    concrete = []
    for step in steps:
        if step == UNFOLD_LOCAL and not names:
            return None
        if step in (UNFOLD_LOCAL, UNFOLD_LOCAL_OPTIONAL):
            concrete.append(unfold if names else "idtac.")
        elif step == FLOOR_TO_UP:
            uses_floor = problem is not None and "Coquelicot" in problem.header and "floor" in problem.statement
            concrete.append(_FLOOR_TO_UP if uses_floor else "idtac.")
        elif step in _FILLED:
            filled = _FILLED[step](problem) if problem is not None else None
            if filled is None:
                return None
            concrete.append(filled)
        else:
            concrete.append(step)
    return tuple(concrete)
