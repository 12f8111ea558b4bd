Require Import ZArith.
Open Scope Z_scope.

Theorem mathd_numbertheory_254 : (239 + 174 + 83) mod 10 = 6.
Proof.
Admitted.