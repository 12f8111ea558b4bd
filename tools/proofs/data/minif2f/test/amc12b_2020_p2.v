Require Import Reals.
Open Scope R_scope.

Theorem amc12b_2020_p2 :
  ((100 ^ 2 - 7 ^ 2) / (70 ^ 2 - 11 ^ 2)) * 
  ((70 - 11) * (70 + 11) / ((100 - 7) * (100 + 7))) = 1.
Proof.
Admitted.