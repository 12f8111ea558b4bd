Require Import Coq.Reals.Reals.
Open Scope R_scope.

Theorem mathd_algebra_432 (x : R) : (x + 3) * (2 * x - 6) = 2 * x^2 - 18.
Proof.
Admitted.