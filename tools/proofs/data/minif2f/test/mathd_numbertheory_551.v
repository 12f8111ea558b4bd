Require Import Nat.

Theorem mathd_numbertheory_551 :
  1529 mod 6 = 5.
Proof.
Admitted.
