Require Import Reals.
Open Scope R_scope.

Theorem amc12a_2021_p7 : forall x y : R, 
  1 <= ((x * y) - 1)^2 + (x + y)^2.
Proof.
Admitted.