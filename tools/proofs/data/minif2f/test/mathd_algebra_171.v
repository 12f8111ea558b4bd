Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_171 (f : R -> R) :
  (forall x, f x = 5 * x + 4) -> f 1 = 9.
Proof.
Admitted.
