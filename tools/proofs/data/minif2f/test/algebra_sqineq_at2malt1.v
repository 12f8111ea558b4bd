Require Import Reals.
Open Scope R_scope.

Theorem algebra_sqineq_at2malt1 (a : R) : a * (2 - a) <= 1.
Proof.
Admitted.