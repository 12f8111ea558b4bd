Require Import Arith.

Theorem mathd_numbertheory_541 :
  forall (m n : nat),
  1 < m ->
  1 < n ->
  m * n = 2005 ->
  m + n = 406.
Proof.
Admitted.