Require Import QArith.

Theorem mathd_algebra_190 :
  ((3/8 + 7/8) / (4/5) == 25/16)%Q.
Proof.
Admitted.