Require Import Nat.
Require Import ZArith.

Theorem imo_1964_p1_2:
  forall n : nat, ~(Nat.divide 7 (2^n + 1)).
Proof.
Admitted.