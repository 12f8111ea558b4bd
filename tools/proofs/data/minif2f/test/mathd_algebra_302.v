Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope C_scope.

Theorem mathd_algebra_302 :
  (Ci / 2)^2 = - (1 / 4).

Proof.
