Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_141
  (a b : R)
  (h₁ : a * b = 180)
  (h₂ : 2 * (a + b) = 54) :
  a^2 + b^2 = 369.
Proof.
Admitted.