Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_37 :
  forall x y : R,
  x + y = 7 ->
  3 * x + y = 45 ->
  x^2 - y^2 = 217.
Proof.
Admitted.