Require Import Coq.Arith.Arith.

Theorem mathd_numbertheory_335 :
  forall n : nat,
  n mod 7 = 5 -> (5 * n) mod 7 = 4.
Proof.
Admitted.