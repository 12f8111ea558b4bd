Require Import Reals Rpower.

Open Scope R_scope.



Theorem mathd_algebra_59 :
  forall b : R,
    Rpower 4 b + Rpower 2 3 = 12 ->
    b = 1.

Proof.
