Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_263 :
  forall y : R,
  (0 <= 19 + 3 * y) ->
  (sqrt (19 + 3 * y) = 7) ->
  y = 10.
Proof.
Admitted.