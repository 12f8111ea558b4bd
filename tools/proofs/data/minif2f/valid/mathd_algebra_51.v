Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_51:
  forall a b : R,
  0 < a -> 0 < b ->
  a + b = 35 ->
  a = (2/5) * b ->
  b - a = 15.
Proof.
Admitted.