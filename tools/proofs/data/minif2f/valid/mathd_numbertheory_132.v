Require Import Coq.Arith.Arith.

Theorem mathd_numbertheory_132 : 2004 mod 12 = 0.
Proof.
Admitted.