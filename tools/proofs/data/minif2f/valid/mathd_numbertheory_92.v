Require Import Arith.

Theorem mathd_numbertheory_92:
  forall n : nat, 
  (5 * n mod 17 = 8) -> 
  (n mod 17 = 5).
Proof.
Admitted.