Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_332 :
  forall (x y : R),
    (x + y) / 2 = 7 ->
    sqrt (x * y) = sqrt 19 ->
    x^2 + y^2 = 158.
Proof.
Admitted.