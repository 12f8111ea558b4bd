Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_412:
  forall (x y : R),
  (x + y = 25) ->
  (x - y = 11) ->
  x = 18.
Proof.
Admitted.