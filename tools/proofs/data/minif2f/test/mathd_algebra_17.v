Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_17 (a : R) 
  (h : sqrt (4 + sqrt (16 + 16 * a)) + sqrt (1 + sqrt (1 + a)) = 6) :
  a = 8.
Proof.
Admitted.