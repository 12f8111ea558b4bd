Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_113 (x : R) :
  x^2 - 14 * x + 3 >= 7^2 - 14 * 7 + 3.
Proof.
Admitted.