Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope C_scope.

Theorem algebra_2rootspoly_apatapbeq2asqp2ab :
  forall (a b : C), (a + a) * (a + b) = 2 * (a ^ 2) + 2 * (a * b).



Proof.
