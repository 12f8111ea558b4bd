Require Import ZArith.
Open Scope Z_scope.

Theorem mathd_numbertheory_175 :
  (2^2010) mod 10 = 4.
Proof.
Admitted.