Require Import ZArith.
Open Scope Z_scope.

Theorem mathd_algebra_296 :
  Z.abs (((3491 - 60) * (3491 + 60) - 3491^2)) = 3600.
Proof.
Admitted.