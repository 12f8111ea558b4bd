Require Import Arith.
Require Import Nat.

Theorem mathd_numbertheory_739:
  (fact 9) mod 10 = 0.
Proof.
Admitted.