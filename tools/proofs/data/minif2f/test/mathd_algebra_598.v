Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_598:
  forall (a b c d : R),
    Rpower 4 a = 5 ->
    Rpower 5 b = 6 ->
    Rpower 6 c = 7 ->
    Rpower 7 d = 8 ->
    a * b * c * d = 3 / 2.
Proof.
Admitted.
