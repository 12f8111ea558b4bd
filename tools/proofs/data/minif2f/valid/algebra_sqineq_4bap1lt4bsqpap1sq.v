Require Import Reals.
Open Scope R_scope.

Theorem algebra_sqineq_4bap1lt4bsqpap1sq :
  forall a b : R,
  4 * b * (a + 1) <= 4 * (b * b) + (a + 1) * (a + 1).
Proof.
Admitted.