Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_398:
  forall (a b c : R),
    0 < a /\ 0 < b /\ 0 < c ->
    9 * b = 20 * c ->
    7 * a = 4 * b ->
    63 * a = 80 * c.
Proof.
Admitted.