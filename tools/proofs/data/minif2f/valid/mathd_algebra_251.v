Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_251:
  forall x : R,
  x <> 0 ->
  3 + 1/x = 7/x ->
  x = 2.
Proof.
Admitted.