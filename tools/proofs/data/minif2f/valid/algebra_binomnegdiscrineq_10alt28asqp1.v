Require Import Reals.
Open Scope R_scope.

Theorem algebra_binomnegdiscrineq_10alt28asqp1:
  forall a : R, 10 * a <= 28 * a^2 + 1.
Proof.
Admitted.