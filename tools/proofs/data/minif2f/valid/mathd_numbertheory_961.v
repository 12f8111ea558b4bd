Require Import PeanoNat.

Theorem mathd_numbertheory_961 : 
  2003 mod 11 = 1.
Proof.
Admitted.