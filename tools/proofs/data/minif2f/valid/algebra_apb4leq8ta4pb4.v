Require Import Reals.
Open Scope R_scope.

Theorem algebra_apb4leq8ta4pb4 :
  forall a b : R, (0 < a) -> (0 < b) -> (a + b)^4 <= 8 * (a^4 + b^4).
Proof.
Admitted.