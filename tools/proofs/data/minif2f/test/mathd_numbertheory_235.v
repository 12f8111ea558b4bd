Require Import Coq.Arith.PeanoNat.

Theorem mathd_numbertheory_235 : 
  (29 * 79 + 31 * 81) mod 10 = 2.
Proof.
Admitted.