Require Import Coq.Arith.PeanoNat.

Theorem mathd_numbertheory_202 :
  (19^19 + 99^99) mod 10 = 8.
Proof.
Admitted.