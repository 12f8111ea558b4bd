Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_181 : 
  forall n : R,
  n <> 3 ->
  (n + 5) / (n - 3) = 2 ->
  n = 11.
Proof.
Admitted.