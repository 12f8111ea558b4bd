Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_410 :
  forall x y : R,
    y = x^2 - 6 * x + 13 -> 4 <= y.
Proof.
Admitted.