Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_293 : forall x : R, 0 <= x ->
  sqrt (60 * x) * sqrt (12 * x) * sqrt (63 * x) = 36 * x * sqrt (35 * x).
Proof.
Admitted.