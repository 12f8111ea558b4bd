Require Import Coq.Arith.PeanoNat.
Require Import Coq.Arith.Arith.
Require Import Coq.Reals.Reals.

Theorem numbertheory_exk2powkeqapb2mulbpa2_aeq1 :
  forall (a b : nat), (0 < a) -> (0 < b) ->
  (exists k : nat, (k > 0) /\ (2 ^ k = (a + b ^ 2) * (b + a ^ 2))) ->
  a = 1.
Proof.
Admitted.