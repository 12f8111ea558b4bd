Require Import Nat.

Theorem mathd_numbertheory_236:
  (1999 ^ 2000) mod 5 = 1.
Proof.
Admitted.