Require Import Arith.

Theorem mathd_numbertheory_169 :
  Nat.gcd (fact 20) 200000 = 40000.
Proof.
Admitted.