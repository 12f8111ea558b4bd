Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_107:
  forall (x y : R),
    (x^2 + 8 * x + y^2 - 6 * y = 0) ->
    (x + 4)^2 + (y - 3)^2 = 5^2.
Proof.
Admitted.