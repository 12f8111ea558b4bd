Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope C_scope.

Theorem algebra_manipexpr_2erprsqpesqeqnrpnesq
    (e r : C) :
    2 * (e * r) + (e^2 + r^2) = (-r + (-e))^2.

Proof.
