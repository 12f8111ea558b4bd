Require Import Reals.
Open Scope R_scope.

Theorem imo_1963_p5 :
  cos (PI / 7) - cos (2 * PI / 7) + cos (3 * PI / 7) = 1 / 2.
Proof.
Admitted.