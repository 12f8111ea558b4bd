Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_354 :
  forall a d : R,
    (a + 6 * d = 30) ->
    (a + 10 * d = 60) ->
    (a + 20 * d = 135).
Proof.
Admitted.