Require Import ZArith.

Open Scope Z_scope.

Theorem mathd_numbertheory_198 :
  (5 ^ 2005) mod 100 = 25.
Proof.
Admitted.