Require Import Arith.

Theorem mathd_numbertheory_458:
  forall n : nat,
  n mod 8 = 7 -> n mod 4 = 3.
Proof.
Admitted.