Require Import Reals.
Require Import Rfunctions.
Require Import ZArith.

Open Scope R_scope.

Theorem mathd_algebra_151:
  Z.sub (up (sqrt 27)) (up (sqrt 26) - 1) = 1%Z.

Proof.
