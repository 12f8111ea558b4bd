Require Import Arith.

Theorem mathd_numbertheory_200 :
  139 mod 11 = 7.
Proof.
Admitted.