Require Import Arith.

Theorem mathd_numbertheory_342 : 54 mod 6 = 0.
Proof.
Admitted.