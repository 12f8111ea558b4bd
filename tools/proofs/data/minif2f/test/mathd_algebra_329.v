Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_329 :
  forall x y : R,
  (3 * y = x) ->
  (2 * x + 5 * y = 11) ->
  (x + y = 4).
Proof.
Admitted.
