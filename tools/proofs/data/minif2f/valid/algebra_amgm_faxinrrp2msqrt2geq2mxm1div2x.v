Require Import Reals.
Open Scope R_scope.

Theorem algebra_amgm_faxinrrp2msqrt2geq2mxm1div2x :
  forall x : R, x > 0 -> 2 - sqrt 2 >= 2 - x - 1 / (2 * x).
Proof.
Admitted.