Require Import Arith.

Theorem mathd_numbertheory_85 :
  1 * 3^3 + 2 * 3^2 + 2 * 3 + 2 = 53.
Proof.
Admitted.