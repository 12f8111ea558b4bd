Require Import Nat.
Require Import ZArith.

Theorem mathd_algebra_304:
  91^2 = 8281.
Proof.
Admitted.