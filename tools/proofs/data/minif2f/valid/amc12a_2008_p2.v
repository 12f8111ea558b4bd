Require Import Reals.
Open Scope R_scope.

Theorem amc12a_2008_p2 :
  forall x : R,
  (x * (1 / 2 + 2 / 3) = 1) -> x = 6 / 7.
Proof.
Admitted.