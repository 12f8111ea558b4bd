Require Import ZArith.

Open Scope Z_scope.

Theorem mathd_numbertheory_45 :
  (Z.gcd 6432 132) + 11 = 23.
Proof.
Admitted.