Require Import Reals.
Open Scope R_scope.

Theorem algebra_sqineq_2at2pclta2c2p41pc:
  forall a c : R, 2 * a * (2 + c) <= a^2 + c^2 + 4 * (1 + c).
Proof.
Admitted.