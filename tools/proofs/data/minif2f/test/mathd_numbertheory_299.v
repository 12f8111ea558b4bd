Require Import ZArith.

Open Scope Z_scope.

Theorem mathd_numbertheory_299 :
  (1 * 3 * 5 * 7 * 9 * 11 * 13) mod 10 = 5.
Proof.
Admitted.