Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope C_scope.

Theorem algebra_2rootsintpoly_am10tap11eqasqpam110
  (a : C) :
  (a - 10) * (a + 11) = a^2 + a - 110.

Proof.
