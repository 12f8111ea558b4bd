Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_44:
  forall s t : R,
    (s = 9 - 2 * t) -> (t = 3 * s + 1) -> (s = 1 /\ t = 4).
Proof.
Admitted.