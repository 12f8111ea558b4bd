Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_509 :
  sqrt ((5 / sqrt 80 + sqrt 845 / 9 + sqrt 45) / sqrt 5) = 13 / 6.
Proof.
Admitted.