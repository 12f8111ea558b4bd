Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_359 : forall y : R,
  y + 6 + y = 2 * 12 -> 
  y = 9.
Proof.
Admitted.