Require Import ZArith.
Open Scope Z_scope.

Theorem mathd_numbertheory_728 : (29^13 - 5^13) mod 7 = 3.
Proof.
Admitted.