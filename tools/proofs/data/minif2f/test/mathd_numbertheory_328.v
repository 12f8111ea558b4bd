Require Import NArith.

Open Scope N_scope.

Theorem mathd_numbertheory_328 :
  (5^999999 mod 7) = 6.
Proof.
Admitted.
