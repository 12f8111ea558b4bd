Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope C_scope.

Theorem algebra_2varlineareq_xpeeq7_2xpeeq3_eeq11_xeqn4
  (x e : C)
  (h0 : x + e = 7)
  (h1 : 2 * x + e = 3) :
  e = 11 /\ x = -4.

Proof.
