From Coq Require Import Arith List.
Import List.ListNotations.

Theorem mathd_numbertheory_239 :
  list_sum (seq 1 12) mod 4 = 2.
Proof.
Admitted.
