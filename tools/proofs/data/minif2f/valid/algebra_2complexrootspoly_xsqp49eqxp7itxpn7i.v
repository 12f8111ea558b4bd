Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope C_scope.

Theorem algebra_2complexrootspoly_xsqp49eqxp7itxpn7i :
  forall x : C,
  x^2 + 49 = (x + 7*Ci) * (x - 7*Ci).

Proof.
