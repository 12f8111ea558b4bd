Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_24 :
  forall x : R,
  (x / 50 = 40) ->
  x = 2000.
Proof.
Admitted.