Require Import ZArith.
Open Scope Z_scope.

Theorem amc12b_2002_p2 (x : Z) (h0 : x = 4) :
  (3 * x - 2) * (4 * x + 1) - (3 * x - 2) * (4 * x) + 1 = 11.
Proof.
Admitted.