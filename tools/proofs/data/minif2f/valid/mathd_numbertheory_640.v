Require Import Nat.

Theorem mathd_numbertheory_640 :
  (91145 + 91146 + 91147 + 91148) mod 4 = 2.
Proof.
Admitted.