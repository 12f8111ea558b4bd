Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_400:
  forall x : R,
  (5 + 500 / 100 * 10 = 110 / 100 * x) ->
  x = 50.
Proof.
Admitted.