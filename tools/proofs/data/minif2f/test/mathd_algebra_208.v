Require Import Reals.

Open Scope R_scope.

Theorem mathd_algebra_208 :
  sqrt 1000000 - Rpower 1000000 (1/3) = 900.

Proof.
