Require Import ZArith.
Open Scope Z_scope.

Theorem numbertheory_4x3m7y3neq2003 : forall x y : Z,
  4 * x^3 - 7 * y^3 <> 2003.
Proof.
Admitted.