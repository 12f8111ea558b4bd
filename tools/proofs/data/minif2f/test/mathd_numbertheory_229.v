Require Import Coq.Arith.Arith.



Theorem mathd_numbertheory_229:
  (5 ^ 30) mod 7 = 1.

Proof.
