Require Import Arith.

Theorem mathd_numbertheory_37 :
  Nat.lcm 9999 100001 = 90900909.
Proof.
Admitted.
