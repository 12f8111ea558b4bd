Require Import Reals.
Open Scope R_scope.

Theorem mathd_algebra_160 (n x : R) :
  (n + x = 97) ->
  (n + 5 * x = 265) ->
  (n + 2 * x = 139).
Proof.
Admitted.