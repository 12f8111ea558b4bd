Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_513 :
  forall (a b : R),
  (3 * a + 2 * b = 5) -> 
  (a + b = 2) -> 
  (a = 1 /\ b = 1).
Proof.
Admitted.