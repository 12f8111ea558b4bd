Require Import Arith.

Theorem mathd_numbertheory_66 : 194 mod 11 = 7.
Proof.
Admitted.