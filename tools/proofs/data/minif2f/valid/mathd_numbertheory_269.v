Require Import ZArith.
Open Scope Z_scope.

Theorem mathd_numbertheory_269 :
  (2005^2 + 2005^0 + 2005^0 + 2005^5) mod 100 = 52.
Proof.
Admitted.