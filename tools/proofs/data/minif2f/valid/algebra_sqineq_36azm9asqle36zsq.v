Require Import Reals.
Open Scope R_scope.

Theorem algebra_sqineq_36azm9asqle36zsq (z a : R) :
  36 * (a * z) - 9 * a^2 <= 36 * z^2.
Proof.
Admitted.