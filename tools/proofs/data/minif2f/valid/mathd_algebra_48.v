Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope C_scope.

Theorem mathd_algebra_48 :
  (9 - 4 * Ci) - ( -3 - 4 * Ci) = 12.
Proof.
