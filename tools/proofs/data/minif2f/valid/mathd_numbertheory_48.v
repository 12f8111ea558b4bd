Require Import Arith.

Theorem mathd_numbertheory_48:
  forall b : nat,
  0 < b ->
  3 * b^2 + 2 * b + 1 = 57 -> 
  b = 4.
Proof.
Admitted.