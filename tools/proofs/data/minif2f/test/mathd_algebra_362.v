Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_362:
  forall (a b : R),
  a^2 * b^3 = 32 / 27 ->
  a / b^3 = 27 / 4 ->
  a + b = 8 / 3.
Proof.
Admitted.