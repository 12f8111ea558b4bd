Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_89:
  forall b : R,
  b <> 0 ->
  (7 * b^3)^2 * (1/((4 * b^2)^3)) = 49/64.
Proof.
Admitted.