Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_142 :
  forall (m b : R), 
  (m * 7 + b = -1) -> 
  (m * (-1) + b = 7) -> 
  (m + b = 5).
Proof.
Admitted.