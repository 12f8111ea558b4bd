Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_419 :
  forall a b : R, 
  a = -1 -> 
  b = 5 -> 
  -a - b^2 + 3 * (a * b) = -39.
Proof.
Admitted.