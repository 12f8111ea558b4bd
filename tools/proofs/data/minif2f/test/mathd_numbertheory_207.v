Require Import Arith.

Theorem mathd_numbertheory_207 :
  8 * 9^2 + 5 * 9 + 2 = 695.
Proof.
Admitted.