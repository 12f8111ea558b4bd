Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_547 :
  forall (x y : R),
  x = 5 ->
  y = 2 ->
  sqrt (x^3 - Rpower 2 y) = 11.


Proof.
