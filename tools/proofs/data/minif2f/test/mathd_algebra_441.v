Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_441 :
  forall x : R,
  x <> 0 ->
  12 / (x * x) * (x^4 / (14 * x)) * (35 / (3 * x)) = 10.
Proof.
Admitted.