Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_440:
  forall x : R, (1.5 / 3 = x / 10) -> x = 5.
Proof.
Admitted.
