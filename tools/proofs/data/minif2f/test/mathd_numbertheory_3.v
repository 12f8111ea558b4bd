Require Import Coq.Arith.Arith.



Theorem mathd_numbertheory_3 :
  ((1 * 1) +
   (2 * 2) +
   (3 * 3) +
   (4 * 4) +
   (5 * 5) +
   (6 * 6) +
   (7 * 7) +
   (8 * 8) +
   (9 * 9)) mod 10 = 5.

Proof.
