Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_510:
  forall (x y : R),
  (x + y = 13) ->
  (x * y = 24) ->
  sqrt (x^2 + y^2) = 11.
Proof.
Admitted.