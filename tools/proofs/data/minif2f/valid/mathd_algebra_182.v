Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope C_scope.

Theorem mathd_algebra_182
  (y : C) :
  7 * (3 * y + 2) = 21 * y + 14.

Proof.
