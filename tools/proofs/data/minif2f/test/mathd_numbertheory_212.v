Require Import ZArith.
Open Scope Z_scope.

Theorem mathd_numbertheory_212 :
  (16^17 * 17^18 * 18^19) mod 10 = 8.
Proof.
Admitted.