Require Import Arith.

Theorem amc12a_2002_p6
  (n : nat)
  (h₀ : 0 < n) :
  exists m, m > n /\ exists p, m * p <= m + p.
Proof.
Admitted.