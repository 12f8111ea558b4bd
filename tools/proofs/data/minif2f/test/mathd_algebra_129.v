Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_129:
  forall a : R,
  a <> 0 ->
  (/ 8) / (/ 4) - / a = 1 ->
  a = -2.
Proof.
Admitted.