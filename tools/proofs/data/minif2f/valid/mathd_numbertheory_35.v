Require Import Coq.Arith.Arith.
Require Import Coq.Lists.List.
Import ListNotations.

Theorem mathd_numbertheory_35 : 
  (1 + 2 + 7 + 14) = 24. 
Proof.
Admitted.