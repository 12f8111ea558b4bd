Require Import ZArith.
Open Scope Z_scope.

Theorem mathd_numbertheory_769 :
  (129^34 + 96^38) mod 11 = 9.
Proof.
Admitted.