Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope R_scope.

Theorem mathd_numbertheory_84 :
  floor ((9 / 160) * 100) = 5%Z.

Proof.
