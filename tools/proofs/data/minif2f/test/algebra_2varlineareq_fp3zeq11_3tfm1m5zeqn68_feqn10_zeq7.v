Require Import Reals.
Require Import Coquelicot.Coquelicot.

Open Scope C_scope.

Theorem algebra_2varlineareq_fp3zeq11_3tfm1m5zeqn68_feqn10_zeq7:
  forall (f z : C),
  f + 3 * z = 11 ->
  3 * (f - 1) - 5 * z = -68 ->
  f = -10 /\ z = 7.

Proof.
