Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_10:
  Rabs ((120 / 100) * 30 - (130 / 100) * 20) = 10.
Proof.
Admitted.