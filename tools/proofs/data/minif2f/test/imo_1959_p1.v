Require Import Nat.
Require Import Arith.

Theorem imo_1959_p1 :
  forall n : nat, gcd (21 * n + 4) (14 * n + 3) = 1.
Proof.
Admitted.