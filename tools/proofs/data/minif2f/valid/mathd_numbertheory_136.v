Require Import Arith.

Theorem mathd_numbertheory_136 (n : nat) :
  123 * n + 17 = 39500 -> n = 321.
Proof.
Admitted.