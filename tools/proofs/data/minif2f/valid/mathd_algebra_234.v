Require Import Reals.
Require Import Rfunctions.
Require Import Rbasic_fun.

Open Scope R_scope.

Theorem mathd_algebra_234 :
  forall d : R,
  27/125 * d = 9/25 ->
  3/5 * (d^3) = 25/9.
Proof.
Admitted.