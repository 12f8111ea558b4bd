Require Import Arith.

Theorem mathd_numbertheory_247 : forall n : nat,
  (3 * n) mod 11 = 2 -> n mod 11 = 8.
Proof.
Admitted.
