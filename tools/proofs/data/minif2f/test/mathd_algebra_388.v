Require Import Reals.
Require Import Lra.

Open Scope R_scope.

Theorem mathd_algebra_388 :
  forall (x y z : R),
  3 * x + 4 * y - 12 * z = 10 ->
  -2 * x - 3 * y + 9 * z = -4 ->
  x = 14.
Proof.
Admitted.
