Require Import Reals.

Open Scope R_scope.

Theorem mathd_algebra_314
  (n : nat)
  (h₀ : n = 11%nat) :
  (1 / 4) ^ (n + 1) * 2 ^ (2 * n) = 1 / 4.

Proof.
