Require Import Nat.

Theorem mathd_numbertheory_185:
  forall n : nat,
  n mod 5 = 3 ->
  (2 * n) mod 5 = 1.
Proof.
Admitted.