Require Import Coq.Reals.Reals.
Open Scope R_scope.

Theorem mathd_algebra_427 :
  forall (x y z : R),
  (3 * x + y = 17) ->
  (5 * y + z = 14) ->
  (3 * x + 5 * z = 41) ->
  (x + y + z = 12).
Proof.
Admitted.