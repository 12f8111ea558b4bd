Require Import Reals.
Require Import Arith.Factorial.

Open Scope R_scope.

Theorem mathd_algebra_536:
  INR (fact 3) * (2^3 + sqrt 9) / 2 = 33.
Proof.
Admitted.