Require Import ZArith.
Open Scope Z_scope.

Theorem numbertheory_x5neqy2p4:
  forall (x y : Z), x^5 <> y^2 + 4.
Proof.
Admitted.