Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_484 :
  ln 27 / ln 3 = 3.
Proof.
Admitted.